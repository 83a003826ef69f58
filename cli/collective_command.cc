#include "cli/collective_command.h"

#include <yaml-cpp/yaml.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "calibrate/validate_collectives.h"
#include "models/hw/collective_sweep.h"
#include "models/hw/hardware.h"

namespace foresight::cli {
namespace {

struct CollectiveArgs {
  std::string hardware;
  int nodes = 1;
  int gpus_per_node = 0;
  std::string op;
  std::string min_bytes = "32M";
  std::string max_bytes = "32M";
  double step_factor = 2;
  std::string algo = "auto";
  std::string model = "analytical";
  std::vector<std::string> sets;
};

int RunCollectiveCommand(const CollectiveArgs& args) {
  const auto fail = [](const Error& error) {
    std::cerr << "error: " << error.ToString() << "\n";
    return 1;
  };
  std::vector<hw::HardwareOverride> overrides;
  for (const std::string& set : args.sets) {
    const std::size_t eq = set.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "error: --set '" << set
                << "': expected KEY=VALUE with a dotted profile key, e.g. "
                   "fabric.oversubscription=4\n";
      return 2;
    }
    YAML::Node value;
    try {
      value = YAML::Load(set.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      std::cerr << "error: --set '" << set << "': invalid YAML value: " << e.msg << "\n";
      return 1;
    }
    overrides.push_back({set.substr(0, eq), value, "--set", 0, 0});
  }
  Result<hw::HardwareProfile> hw = hw::LoadHardware(args.hardware, overrides);
  if (!hw.ok()) return fail(hw.error());

  hw::SweepOptions options;
  const std::optional<hw::NetOp> op = hw::ParseNetOp(args.op);
  if (!op) return fail(Error::At("", 0, 0, "unknown --op '" + args.op + "'"));
  options.op = *op;
  options.nodes = args.nodes;
  options.gpus_per_node = args.gpus_per_node;
  Result<double> min_bytes = hw::ParseByteSize(args.min_bytes);
  if (!min_bytes.ok()) return fail(min_bytes.error());
  Result<double> max_bytes = hw::ParseByteSize(args.max_bytes);
  if (!max_bytes.ok()) return fail(max_bytes.error());
  options.min_bytes = *min_bytes;
  options.max_bytes = *max_bytes;
  options.step_factor = args.step_factor;
  options.algorithm = *hw::ParseAlgorithm(args.algo);  // checked by CLI11
  options.model = args.model == "flow" ? hw::NetworkModel::kFlow : hw::NetworkModel::kAnalytical;

  Result<std::vector<hw::SweepRow>> rows = hw::RunCollectiveSweep(*hw, options);
  if (!rows.ok()) return fail(rows.error());
  const int g = args.gpus_per_node == 0 ? hw->node.gpus_per_node : args.gpus_per_node;
  const std::string title = "foresight collective: " + std::string(hw::NetOpName(options.op)) +
                            " on " + std::to_string(args.nodes) + " node(s) x " +
                            std::to_string(g) + " GPUs of " + hw->name + ", model " + args.model +
                            ", algo " + args.algo;
  std::cout << hw::RenderNcclTestsTable(*rows, options, title);
  return 0;
}

struct ValidateArgs {
  std::string data = "../shared/data";
  std::string doc;
};

int RunValidateCommand(const ValidateArgs& args) {
  Result<std::string> block = calibrate::ValidateCollectives(args.data);
  if (!block.ok()) {
    std::cerr << "error: " << block.error().ToString() << "\n";
    return 1;
  }
  if (args.doc.empty()) {
    std::cout << *block;
    return 0;
  }
  if (Status status = calibrate::ReplaceGeneratedBlock(args.doc, *block); !status.ok()) {
    std::cerr << "error: " << status.error().ToString() << "\n";
    return 1;
  }
  std::cerr << "updated the collectives block of " << args.doc << "\n";
  return 0;
}

}  // namespace

CLI::App* AddValidateCollectivesCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ValidateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "validate-collectives",
      "fit link parameters from the nccl-tests and vTrain logs and report held-out error");
  cmd->add_option("--data", args->data, "the shared data directory (default ../shared/data)");
  cmd->add_option("--doc", args->doc,
                  "rewrite the generated collectives block of this Markdown file (else print)");
  cmd->callback([args, exit_code]() { *exit_code = RunValidateCommand(*args); });
  return cmd;
}

CLI::App* AddCollectiveCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CollectiveArgs>();
  CLI::App* cmd = app.add_subcommand(
      "collective", "simulate an nccl-tests sweep of one collective (nccl-tests table layout)");
  cmd->add_option("--hardware", args->hardware, "catalog name or profile .yaml")->required();
  cmd->add_option("--nodes", args->nodes, "nodes (default 1)");
  cmd->add_option("--gpus-per-node", args->gpus_per_node,
                  "GPUs used per node (default: the profile's node.gpus_per_node)");
  cmd->add_option("--op", args->op, "collective")
      ->required()
      ->check(CLI::IsMember({"all_reduce", "all_gather", "reduce_scatter", "alltoall", "sendrecv",
                             "broadcast", "reduce"}));
  cmd->add_option("-b,--minbytes", args->min_bytes, "smallest size (bytes, or 32M, 1G, ...)");
  cmd->add_option("-e,--maxbytes", args->max_bytes, "largest size (bytes, or 32M, 16G, ...)");
  cmd->add_option("-f,--stepfactor", args->step_factor, "size multiplier between rows (> 1)");
  cmd->add_option("--algo", args->algo, "algorithm")
      ->check(CLI::IsMember({"auto", "ring", "tree", "nvls", "hierarchical", "direct"}));
  cmd->add_option("--model", args->model, "network model")
      ->check(CLI::IsMember({"analytical", "flow"}));
  cmd->add_option("--set", args->sets, "override a profile key, e.g. --set fabric.tiers=3");
  cmd->callback([args, exit_code]() { *exit_code = RunCollectiveCommand(*args); });
  return cmd;
}

}  // namespace foresight::cli
