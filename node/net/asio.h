// The one include of Boost.Asio: Boost 1.74's awaitable.hpp uses std::exchange
// without including <utility>, which GCC 12 no longer pulls in transitively.
#pragma once

// clang-format off
#include <utility>
#include <boost/asio.hpp>
// clang-format on
