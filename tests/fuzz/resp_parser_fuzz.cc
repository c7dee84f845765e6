// libFuzzer target for the RESP request parser: arbitrary bytes are parsed as a
// client stream (consume, re-parse), split and re-fed, and echoed through Reply.
// Run: build-fuzz/tests/fuzz/resp_parser_fuzz tests/fuzz/corpus/resp -max_total_time=60
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/resp_fuzz_body.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cairn::fuzz::FuzzRespOnce(data, size);
  return 0;
}
