// Writes a hardware profile as YAML in the catalog schema (models/hw/hardware.h), so that
// hw::LoadHardware reads it back field for field and a scenario can name it as
// `cluster.hardware: PROFILE.yaml`.
//
// Layout: `header` lines as "# " comments, then every key of the schema in the catalog's order.
// A key listed in `comments` gets that text as a comment on the line(s) before it (fitted
// values say which files they came from); every other value is the base profile's. Numbers are
// written in the shortest form that reads back to the same double; strings are double-quoted.
// O(size of the profile).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "models/hw/hardware.h"

namespace foresight::calibrate {

struct ProfileComments {
  std::vector<std::string> header;
  std::map<std::string, std::string> by_key;  // dotted key -> comment (may contain '\n')
};

std::string WriteProfileYaml(const hw::HardwareProfile& profile, const ProfileComments& comments);

}  // namespace foresight::calibrate
