#include "tools/serve_command.h"

#include <iostream>

#include "live/serve_config.h"
#include "live/sidecar.h"
#include "tools/cli_common.h"

namespace orchsim::tools {

int ServeCommand(const std::vector<std::string>& args) {
  std::string config_path;
  std::string listen;
  std::string record;
  po::options_description options(
      "orchsim serve --config serve.json [options]\n\n"
      "Runs the orchestration core as an HTTP sidecar in front of the upstream APIs of\n"
      "serve.json (schema: scenarios/schema/serve.schema.json), with the policy preset it\n"
      "names. Clients call http://LISTEN/<api>/<path>?<query>. JSON log lines go to stderr.\n"
      "SIGTERM/SIGINT: drain and exit 0. SIGHUP: reload serve.json and the preset\n"
      "(an invalid one is logged and the running one kept). Exit status: 0 after a\n"
      "drain, 2 bad configuration or usage, 3 the --record file cannot be written.\n\noptions");
  options.add_options()("help,h", "show this help")("config", po::value<std::string>(&config_path),
                                                    "the serve config (JSON)")(
      "listen", po::value<std::string>(&listen),
      "host:port to listen on instead of the config's \"listen\" (port 0: any free port)")(
      "record", po::value<std::string>(&record),
      "write a trace of every request and upstream call to FILE.jsonl (the format of "
      "orchsim run --record; after a reload, FILE-gN.jsonl)")(
      "check", "validate the config and its preset, then exit (0 ok, 2 bad)");
  po::variables_map vm;
  if (!ParseCommandLine(args, options, "unexpected", 0, &vm)) return 0;
  if (config_path.empty()) {
    std::cerr << "orchsim serve: missing --config FILE\n";
    return 2;
  }
  if (vm.count("check")) {
    StatusOr<live::ServeConfig> config = live::LoadServeConfig(config_path);
    if (!config.ok()) {
      std::cerr << "orchsim serve: " << config.status().message() << "\n";
      return 2;
    }
    std::cout << config_path << ": ok (" << config->upstreams.size() << " upstreams, preset "
              << config->preset_file << ")\n";
    return 0;
  }
  live::SidecarOptions sidecar_options;
  sidecar_options.config_path = config_path;
  sidecar_options.handle_signals = true;
  if (!listen.empty()) sidecar_options.listen = listen;
  sidecar_options.record_path = record;
  StatusOr<std::unique_ptr<live::Sidecar>> sidecar = live::Sidecar::Create(sidecar_options);
  if (!sidecar.ok()) {
    const std::string& message = sidecar.status().message();
    std::cerr << "orchsim serve: " << message << "\n";
    // README "Exit status": a trace that cannot be written is an output
    // error (3); everything else is bad input (2).
    return message.rfind("--record: ", 0) == 0 ? 3 : 2;
  }
  return (*sidecar)->Run();
}

}  // namespace orchsim::tools
