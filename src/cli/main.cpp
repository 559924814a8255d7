// The avrec executable: everything lives in avrec_core; see src/cli/app.cpp.
#include "cli/commands.h"

int main(int argc, char** argv) { return avrec::cli::Main(argc, argv); }
