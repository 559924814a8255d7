#include <gtest/gtest.h>
#include "avrec/io.h"
#include "test_util.h"
TEST(Placeholder, Builds) { SUCCEED(); }
