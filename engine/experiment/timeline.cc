#include "engine/experiment/timeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace orchsim::experiment {

void QuotaSample::Add(const QuotaSample& later) {
  peak_used = std::max(peak_used, later.peak_used);
  refused += later.refused;
  if (later.last_at_us >= last_at_us) {
    last_used = later.last_used;
    last_at_us = later.last_at_us;
  }
}

void TimeBucket::Add(const TimeBucket& o) {
  requests += o.requests;
  completed += o.completed;
  upstream_calls += o.upstream_calls;
  retry_calls += o.retry_calls;
  cache_hits += o.cache_hits;
  coalesced += o.coalesced;
  client_failures += o.client_failures;
  breaker_trips += o.breaker_trips;
  retry_budget_denied += o.retry_budget_denied;
  answered_with_data += o.answered_with_data;
  outdated += o.outdated;
  credits += o.credits;
  for (const auto& [api, c] : o.credits_by_api) credits_by_api[api] += c;
  for (const auto& [api, q] : o.quota_by_api) {
    auto [it, inserted] = quota_by_api.emplace(api, q);
    if (!inserted) it->second.Add(q);
  }
  wait_sum_us += o.wait_sum_us;
  wait_max_us = std::max(wait_max_us, o.wait_max_us);
  latency_sum_us += o.latency_sum_us;
  latency_max_us = std::max(latency_max_us, o.latency_max_us);
}

bool TimeBucket::empty() const {
  return requests == 0 && completed == 0 && upstream_calls == 0 && retry_calls == 0 &&
         cache_hits == 0 && coalesced == 0 && client_failures == 0 && breaker_trips == 0 &&
         retry_budget_denied == 0 && answered_with_data == 0 && outdated == 0 && credits == 0.0 &&
         !std::signbit(credits) && credits_by_api.empty() && quota_by_api.empty() &&
         wait_sum_us == 0 && wait_max_us == 0 && latency_sum_us == 0 && latency_max_us == 0;
}

// Append-only byte stream: a memory buffer in front of an anonymous
// temporary file. Bytes [0, file_bytes) are in the file, the rest in buffer.
class Timeline::Stream {
 public:
  ~Stream() {
    if (file_ != nullptr) std::fclose(file_);
  }

  uint64_t bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return file_bytes_ + buffer_.size();
  }

  void Append(const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    buffer_ += bytes;
    if (buffer_.size() < kSpillBufferBytes) return;
    if (file_ == nullptr) {
      file_ = std::tmpfile();
      if (file_ == nullptr) throw std::runtime_error("timeline: cannot create a temporary file");
    }
    if (std::fseek(file_, 0, SEEK_END) != 0 ||
        std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size() ||
        std::fflush(file_) != 0) {
      throw std::runtime_error("timeline: cannot write the temporary file");
    }
    file_bytes_ += buffer_.size();
    buffer_.clear();
  }

  // Calls sink(data, n) over bytes [0, limit) in order, in chunks.
  template <typename Sink>
  void Read(uint64_t limit, Sink&& sink) const {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t from_file = std::min(limit, file_bytes_);
    if (from_file > 0) {
      if (std::fseek(file_, 0, SEEK_SET) != 0)
        throw std::runtime_error("timeline: cannot read the temporary file");
      char chunk[64 * 1024];
      uint64_t left = from_file;
      while (left > 0) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left, sizeof(chunk)));
        if (std::fread(chunk, 1, n, file_) != n)
          throw std::runtime_error("timeline: cannot read the temporary file");
        sink(chunk, n);
        left -= n;
      }
    }
    if (limit > file_bytes_) {
      sink(buffer_.data(), static_cast<size_t>(limit - file_bytes_));
    }
  }

 private:
  mutable std::mutex mutex_;
  std::FILE* file_ = nullptr;
  uint64_t file_bytes_ = 0;
  std::string buffer_;
};

namespace {

template <typename T>
void Put(std::string& out, const T& value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  out.append(raw, sizeof(T));
}

void Serialize(uint64_t index, const TimeBucket& b, std::string& out) {
  Put(out, index);
  for (uint64_t v : {b.requests, b.completed, b.upstream_calls, b.retry_calls, b.cache_hits,
                     b.coalesced, b.client_failures, b.breaker_trips, b.retry_budget_denied,
                     b.answered_with_data, b.outdated}) {
    Put(out, v);
  }
  Put(out, b.credits);
  for (int64_t v : {b.wait_sum_us, b.wait_max_us, b.latency_sum_us, b.latency_max_us}) Put(out, v);
  Put(out, static_cast<uint32_t>(b.credits_by_api.size()));
  for (const auto& [api, credits] : b.credits_by_api) {
    Put(out, static_cast<uint32_t>(api.size()));
    out.append(api);
    Put(out, credits);
  }
  Put(out, static_cast<uint32_t>(b.quota_by_api.size()));
  for (const auto& [api, q] : b.quota_by_api) {
    Put(out, static_cast<uint32_t>(api.size()));
    out.append(api);
    Put(out, q.peak_used);
    Put(out, q.last_used);
    Put(out, q.last_at_us);
    Put(out, q.refused);
  }
}

// Parses records from a byte stream fed in arbitrary chunks.
class RecordParser {
 public:
  using Emit = std::function<void(uint64_t index, const TimeBucket& bucket)>;
  explicit RecordParser(Emit emit) : emit_(std::move(emit)) {}

  void Feed(const char* data, size_t n) {
    pending_.append(data, n);
    size_t pos = 0;
    while (TryParse(pos)) {
    }
    pending_.erase(0, pos);
  }
  bool done() const { return pending_.empty(); }

 private:
  template <typename T>
  bool Get(size_t& pos, T* value) const {
    if (pending_.size() - pos < sizeof(T)) return false;
    std::memcpy(value, pending_.data() + pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }

  // Parses one whole record at `pos` (advancing it), or leaves it.
  bool TryParse(size_t& pos) {
    size_t at = pos;
    uint64_t index = 0;
    TimeBucket b;
    if (!Get(at, &index)) return false;
    for (uint64_t* v : {&b.requests, &b.completed, &b.upstream_calls, &b.retry_calls, &b.cache_hits,
                        &b.coalesced, &b.client_failures, &b.breaker_trips, &b.retry_budget_denied,
                        &b.answered_with_data, &b.outdated}) {
      if (!Get(at, v)) return false;
    }
    if (!Get(at, &b.credits)) return false;
    for (int64_t* v : {&b.wait_sum_us, &b.wait_max_us, &b.latency_sum_us, &b.latency_max_us}) {
      if (!Get(at, v)) return false;
    }
    uint32_t apis = 0;
    if (!Get(at, &apis)) return false;
    for (uint32_t i = 0; i < apis; ++i) {
      uint32_t length = 0;
      if (!Get(at, &length)) return false;
      if (pending_.size() - at < length) return false;
      std::string api = pending_.substr(at, length);
      at += length;
      double credits = 0.0;
      if (!Get(at, &credits)) return false;
      b.credits_by_api.emplace(std::move(api), credits);
    }
    uint32_t quotas = 0;
    if (!Get(at, &quotas)) return false;
    for (uint32_t i = 0; i < quotas; ++i) {
      uint32_t length = 0;
      if (!Get(at, &length)) return false;
      if (pending_.size() - at < length) return false;
      std::string api = pending_.substr(at, length);
      at += length;
      QuotaSample q;
      if (!Get(at, &q.peak_used) || !Get(at, &q.last_used) || !Get(at, &q.last_at_us) ||
          !Get(at, &q.refused)) {
        return false;
      }
      b.quota_by_api.emplace(std::move(api), q);
    }
    pos = at;
    emit_(index, b);
    return true;
  }

  Emit emit_;
  std::string pending_;
};

}  // namespace

void Timeline::resize(size_t n) { size_ = std::max(size_, n); }

TimeBucket& Timeline::Mutable(size_t index) {
  size_ = std::max(size_, index + 1);
  if (index < open_base_) return late_[index];
  if (open_.empty()) open_base_ = index;
  while (open_base_ + open_.size() <= index) open_.emplace_back();
  return open_[index - open_base_];
}

void Timeline::PrivatizeStream() {
  if (stream_ == nullptr) {
    stream_ = std::make_shared<Stream>();
    stream_bytes_ = 0;
    return;
  }
  if (stream_->bytes() == stream_bytes_) return;
  auto own = std::make_shared<Stream>();
  std::string chunk;
  stream_->Read(stream_bytes_, [&](const char* data, size_t n) {
    chunk.assign(data, n);
    own->Append(chunk);
  });
  stream_ = std::move(own);
}

void Timeline::SpillBefore(size_t index) {
  index = std::min(index, size_);
  if (index <= open_base_) return;
  std::string records;
  while (!open_.empty() && open_base_ < index) {
    if (!open_.front().empty()) Serialize(open_base_, open_.front(), records);
    open_.pop_front();
    ++open_base_;
  }
  open_base_ = std::max(open_base_, index);
  if (records.empty()) return;
  PrivatizeStream();
  stream_->Append(records);
  stream_bytes_ += records.size();
}

void Timeline::ForEach(const std::function<void(size_t, const TimeBucket&)>& fn) const {
  size_t next = 0;
  const TimeBucket quiet;
  auto emit = [&](size_t index, const TimeBucket& bucket) {
    auto late = late_.find(index);
    if (late == late_.end()) {
      fn(index, bucket);
    } else {
      TimeBucket merged = bucket;
      merged.Add(late->second);
      fn(index, merged);
    }
  };
  auto emit_until = [&](size_t end) {
    for (; next < end; ++next) emit(next, quiet);
  };
  if (stream_ != nullptr && stream_bytes_ > 0) {
    RecordParser parser([&](uint64_t index, const TimeBucket& bucket) {
      emit_until(static_cast<size_t>(index));
      emit(next++, bucket);
    });
    stream_->Read(stream_bytes_, [&](const char* data, size_t n) { parser.Feed(data, n); });
    if (!parser.done()) throw std::runtime_error("timeline: truncated temporary file");
  }
  emit_until(std::min(open_base_, size_));
  for (size_t i = 0; i < open_.size() && next < size_; ++i) emit(next++, open_[i]);
  emit_until(size_);
}

std::vector<TimeBucket> Timeline::ToVector() const {
  std::vector<TimeBucket> all;
  all.reserve(size_);
  ForEach([&](size_t, const TimeBucket& b) { all.push_back(b); });
  return all;
}

}  // namespace orchsim::experiment
