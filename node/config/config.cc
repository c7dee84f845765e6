// Config (skeleton until the config module lands): defaults only.
#include "node/config/config.h"

namespace cairn::config {

Config::Config() = default;
Status Config::LoadFile(const std::string& path) { return Status::NotSupported("config files"); }
Status Config::LoadString(std::string_view, std::string_view) { return Status::Ok(); }
Result<std::string> Config::ArgsToConfigText(const std::vector<std::string>&) {
  return std::string();
}
std::vector<std::pair<std::string, std::string>> Config::Get(
    const std::vector<std::string_view>&) const {
  return {};
}
Status Config::Set(std::string_view, std::string_view) { return Status::NotSupported("set"); }
Status Config::Rewrite() { return Status::NotSupported("rewrite"); }
void Config::OnChange(std::string name, std::function<Status()> fn) {
  hooks_[std::move(name)] = std::move(fn);
}
Status Config::ApplyLine(const std::vector<std::string>&, std::string_view, int, int) {
  return Status::Ok();
}

}  // namespace cairn::config
