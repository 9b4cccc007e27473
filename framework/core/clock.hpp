// Wall-clock timestamps for manifests, logs and checkpoints.
#pragma once

#include <string>

namespace cadenza {

// Current UTC time as ISO 8601 with seconds, e.g. "2026-11-23T20:41:07Z".
std::string utc_timestamp();

}  // namespace cadenza
