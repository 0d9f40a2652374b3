// libFuzzer target: orchsim serve's config reader (live/serve_config.h)
// with the preset reader behind it, then the request router over what it
// accepted.
//
// Input: a serve.json text, optionally followed by a line "#preset" and a
// preset JSON text, written as policies/fuzz.json (so "preset":
// "../policies/fuzz.json" reads it). serve.json lives in serve/ of a
// temporary folder whose policies/ holds copies of scenarios/policies/*.json,
// so the shipped serve configs (the seeds) load as they do from the repo.
// Every variable a config can name is "set" by the harness's environment
// (its value: "envsecret-<name>"), except MISSING.
//
// Contract checked: LoadServeConfig never throws and every refusal says
// where ("FILE: ..."); an accepted config has a valid policy, at least one
// upstream with routes, and a base URL for each; routing a few fixed
// client requests through it never throws, answers only 400/404/405 when
// it refuses, and never puts a secret into a cache key or an upstream
// target (the secret is added at send time only); no sanitizer report.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <variant>

#include "live/request_router.h"
#include "live/serve_config.h"

namespace {

namespace fs = std::filesystem;

void Check(bool condition) {
  if (!condition) std::abort();
}

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// The temporary folder (serve/, policies/), created once per process.
const fs::path& Folder() {
  static const fs::path folder = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("orchsim-serve-config-fuzz-" + std::to_string(getpid()));
    std::error_code ec;
    fs::create_directories(dir / "serve", ec);
    fs::create_directories(dir / "policies", ec);
    for (const auto& entry :
         fs::directory_iterator(fs::path(ORCHSIM_SOURCE_DIR) / "scenarios" / "policies", ec)) {
      if (entry.path().extension() == ".json") {
        fs::copy_file(entry.path(), dir / "policies" / entry.path().filename(),
                      fs::copy_options::overwrite_existing, ec);
      }
    }
    return dir;
  }();
  return folder;
}

std::optional<std::string> FuzzEnv(const std::string& name) {
  if (name == "MISSING") return std::nullopt;
  return "envsecret-" + name;
}

bool MentionsSecret(const std::string& text) {
  return text.find("envsecret-") != std::string::npos;
}

void RouteFixedRequests(const orchsim::live::ServeConfig& config) {
  for (const auto& [api, upstream] : config.upstreams) {
    for (const std::string& tail :
         {std::string("/"), std::string("/v4/sports/x/odds?regions=us&apiKey=s3cret-k&b=%2"),
          std::string("/a/../b?x=1&x=2"), std::string("/%2e%2e/x")}) {
      orchsim::live::ClientHeaders headers;
      const orchsim::live::RouteResult result =
          orchsim::live::Route(config, "GET", "/" + api + tail, headers, orchsim::Instant());
      if (const auto* error = std::get_if<orchsim::live::RouteError>(&result)) {
        Check(error->status == 400 || error->status == 404 || error->status == 405);
        Check(!error->code.empty());
        continue;
      }
      const auto& routed = std::get<orchsim::live::RoutedRequest>(result);
      Check(routed.request.api == api);
      Check(!MentionsSecret(routed.request.key));
      Check(!MentionsSecret(routed.target));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string serve = text;
  const size_t marker = text.find("\n#preset\n");
  if (marker != std::string::npos) {
    serve = text.substr(0, marker);
    WriteFile(Folder() / "policies" / "fuzz.json", text.substr(marker + 9));
  }
  const fs::path path = Folder() / "serve" / "serve.json";
  WriteFile(path, serve);

  const orchsim::StatusOr<orchsim::live::ServeConfig> config =
      orchsim::live::LoadServeConfig(path.string(), FuzzEnv);
  if (!config.ok()) {
    // A refusal says where: "FILE: /json/path: what was expected".
    Check(config.status().message().find(": ") != std::string::npos);
    return 0;
  }
  Check(config->policy.validate().ok());
  Check(!config->upstreams.empty());
  for (const auto& [api, upstream] : config->upstreams) {
    Check(!upstream.routes.empty());
    Check(!upstream.base_url_text.empty());
    for (const auto& route : upstream.routes) Check(!route.endpoint.empty());
  }
  RouteFixedRequests(*config);
  return 0;
}
