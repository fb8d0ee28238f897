#pragma once
// Internal to the engine: Boost.Process, included the one way every engine file must include it.
// Boost 1.74 compiles its vfork launcher only for pre-2008 POSIX feature levels; Linux has vfork,
// so it is turned on (the parent may link LibTorch, and copying its page tables for a fork cost
// ~2 ms per trial). Defined in one file and not another, the launcher would differ between
// translation units (an ODR violation).

#define BOOST_POSIX_HAS_VFORK 1
#include <boost/process/child.hpp>
#include <boost/process/cmd.hpp>
#include <boost/process/env.hpp>
#include <boost/process/error.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/pipe.hpp>
#include <boost/process/posix.hpp>
