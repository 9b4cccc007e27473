// Typed errors. Library code throws these; only framework/cli maps them to exit codes.
// Every message carries the offending file, key or value and what would have been valid.
#pragma once

#include <stdexcept>
#include <string>

namespace cadenza {

// Base of every error cadenza throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A config file, key, value or override is invalid. Exit code 2.
class ConfigError : public Error {
 public:
  using Error::Error;
};

// The command line itself is wrong (unknown flag, missing argument, bad combination). Exit code 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// An input file (dataset, MIDI, checkpoint) is missing, malformed or inconsistent. Exit code 3.
class InputError : public Error {
 public:
  using Error::Error;
};

// Numerical failure during training or evaluation (NaN/Inf). Exit code 4.
class NumericError : public Error {
 public:
  using Error::Error;
};

}  // namespace cadenza
