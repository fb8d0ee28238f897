#pragma once
// Catch2 for tests that use LibTorch: Debian's c10 pulls in glog, whose CHECK macro
// would replace Catch2's, so LibTorch is included first and glog's CHECK dropped.

#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>
