// Fault injection for the fault suite (tests/fault_test.cpp): a named point
// in the code where a test can have the process killed, to check that a kill
// at that instant loses nothing. Inactive unless the environment variable
// AVREC_FAULT is set to "NAME:N": the N-th time the process passes point
// NAME, it sends itself SIGKILL (no cleanup, as a real kill -9), or the
// signal AVREC_FAULT_SIGNAL names (TERM, INT or HUP).
#pragma once

namespace avrec {

void FaultPoint(const char* name);

}  // namespace avrec
