#pragma once
// SIGINT / SIGTERM as a request to stop cleanly: the handler only records the signal, and
// long loops (recon's training loop, the language stage) look at it between steps,
// save what they need to continue and end with an Interrupted error (engine/core/error.h).
// A second signal while the first is pending ends the process at once (default action).
#include <string>

namespace sp {

// Installs the handlers for SIGINT and SIGTERM (idempotent; a CLI command calls it).
void install_stop_signal_handlers();
// The signal asked to stop with, 0 when none.
int stop_signal();
// Marks a stop as if `signal` had arrived (tests; in-process callers such as a GUI).
void request_stop(int signal);
void clear_stop_request();
// "SIGINT", "SIGTERM" or "signal N", for the one-line message of an interrupted run.
std::string signal_name(int signal);

}  // namespace sp
