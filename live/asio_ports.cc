#include "live/asio_ports.h"

#include <limits>
#include <random>

namespace orchsim::live {

namespace {

int64_t SteadyMicros(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

int64_t SystemMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

// ---------------------------------------------------------------- AsioClock

AsioClock::AsioClock()
    : offset_us_(SystemMicros() - SteadyMicros(std::chrono::steady_clock::now())) {}

Instant AsioClock::now() const {
  return Instant::FromUnixMicros(SteadyMicros(std::chrono::steady_clock::now()) + offset_us_);
}

Instant AsioClock::wall_now() const { return Instant::FromUnixMicros(SystemMicros()); }

std::chrono::steady_clock::time_point AsioClock::ToSteady(Instant at) const {
  // Far-future instants (Instant::Max) are clamped to a century ahead: the
  // steady clock counts nanoseconds and would overflow.
  const int64_t horizon_us = now().unix_micros() + int64_t{100} * 365 * 24 * 3600 * 1000000;
  const int64_t at_us = std::min(at.unix_micros(), horizon_us);
  return std::chrono::steady_clock::time_point(std::chrono::microseconds(at_us - offset_us_));
}

// ---------------------------------------------------------------- AsioTimers

AsioTimers::AsioTimers(boost::asio::io_context& io, const AsioClock& clock)
    : clock_(clock), timer_(io), self_(std::make_shared<AsioTimers*>(this)) {}

AsioTimers::~AsioTimers() {
  self_.reset();  // a wake-up already queued finds nothing to run
  timer_.cancel();
}

Timers::TimerId AsioTimers::ScheduleAt(Instant at, Callback callback) {
  const TimerId id = next_id_++;
  table_.emplace(std::make_pair(at, id), std::move(callback));
  by_id_.emplace(id, at);
  Arm();
  return id;
}

bool AsioTimers::Cancel(TimerId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return false;
  table_.erase(std::make_pair(it->second, id));
  by_id_.erase(it);
  // The asio timer stays armed: an early wake-up finds nothing due and re-arms.
  return true;
}

void AsioTimers::Arm() {
  if (table_.empty()) return;
  const Instant earliest = table_.begin()->first.first;
  if (armed_for_ && *armed_for_ <= earliest) return;
  armed_for_ = earliest;
  timer_.expires_at(clock_.ToSteady(earliest));  // cancels a later wait
  std::weak_ptr<AsioTimers*> self = self_;
  timer_.async_wait([self](const boost::system::error_code& ec) {
    if (ec) return;  // replaced by an earlier wait, or destroyed
    std::shared_ptr<AsioTimers*> timers = self.lock();
    if (timers) (*timers)->OnWake();
  });
}

void AsioTimers::OnWake() {
  armed_for_.reset();
  const Instant now = clock_.now();
  const TimerId watermark = next_id_;  // timers scheduled from here on wait a turn
  while (!table_.empty()) {
    auto first = table_.begin();
    const auto [at, id] = first->first;
    if (at > now || id >= watermark) break;
    Callback callback = std::move(first->second);
    table_.erase(first);
    by_id_.erase(id);
    callback();  // may schedule or cancel others
  }
  Arm();
}

// ---------------------------------------------------------------- OsRandomSource

OsRandomSource::OsRandomSource()
    : OsRandomSource([] {
        std::random_device device;
        return (uint64_t{device()} << 32) ^ uint64_t { device() };
      }()) {}

OsRandomSource::OsRandomSource(uint64_t seed) : seed_(seed) {
  uint64_t x = seed;
  for (uint64_t& s : state_) s = SplitMix64(x);
}

uint64_t OsRandomSource::Next() {
  const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = Rotl(state_[3], 45);
  return result;
}

double OsRandomSource::Uniform01() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;  // 53 random bits in [0, 1)
}

}  // namespace orchsim::live
