#include "policies/ports.h"

namespace orchsim {

// Out-of-line destructors anchor the vtables in one translation unit.
Clock::~Clock() = default;
Timers::~Timers() = default;
RandomSource::~RandomSource() = default;
Transport::~Transport() = default;

}  // namespace orchsim
