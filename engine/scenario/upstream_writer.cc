#include "engine/scenario/upstream_writer.h"

namespace orchsim::scenario {
namespace {

using OJson = nlohmann::ordered_json;

constexpr size_t kLineWidth = 90;

// {"a": 1, "b": [2, 3]}: one line, ", " and ": " between items.
std::string Compact(const OJson& j) {
  if (j.is_object()) {
    if (j.empty()) return "{}";
    std::string out = "{";
    bool first = true;
    for (const auto& item : j.items()) {
      out += (first ? "" : ", ") + OJson(item.key()).dump() + ": " + Compact(item.value());
      first = false;
    }
    return out + "}";
  }
  if (j.is_array()) {
    if (j.empty()) return "[]";
    std::string out = "[";
    for (size_t i = 0; i < j.size(); ++i) out += (i ? ", " : "") + Compact(j[i]);
    return out + "]";
  }
  return j.dump();
}

void Write(const OJson& j, size_t indent, size_t used, std::string* out) {
  const std::string compact = Compact(j);
  if (!j.is_structured() || indent + used + compact.size() <= kLineWidth) {
    *out += compact;
    return;
  }
  const std::string pad(indent + 2, ' ');
  if (j.is_object()) {
    *out += "{\n";
    size_t i = 0;
    for (const auto& item : j.items()) {
      const std::string key = OJson(item.key()).dump() + ": ";
      *out += pad + key;
      Write(item.value(), indent + 2, key.size(), out);
      *out += ++i < j.size() ? ",\n" : "\n";
    }
    *out += std::string(indent, ' ') + "}";
    return;
  }
  *out += "[\n";
  for (size_t i = 0; i < j.size(); ++i) {
    *out += pad;
    Write(j[i], indent + 2, 0, out);
    *out += i + 1 < j.size() ? ",\n" : "\n";
  }
  *out += std::string(indent, ' ') + "]";
}

std::string Dur(Duration d) { return FormatDuration(d); }

OJson Latency(const world::LatencyConfig& c) {
  OJson j;
  j["kind"] = std::string(world::LatencyKindName(c.kind));
  switch (c.kind) {
    case world::LatencyKind::kConstant:
      j["constant"] = Dur(c.constant);
      break;
    case world::LatencyKind::kUniform:
      j["min"] = Dur(c.min);
      j["max"] = Dur(c.max);
      break;
    case world::LatencyKind::kExponential:
      j["mean"] = Dur(c.mean);
      break;
    case world::LatencyKind::kLognormal:
      j["median"] = Dur(c.median);
      j["p99"] = Dur(c.p99);
      break;
    case world::LatencyKind::kEmpirical: {
      OJson table = OJson::array();
      for (const world::LatencyRow& row : c.table) {
        table.push_back({{"latency", Dur(row.latency)}, {"weight", row.weight}});
      }
      j["table"] = std::move(table);
      j["interpolate"] = c.empirical_interpolate;
      break;
    }
  }
  j["degraded_factor"] = c.degraded_factor;
  return j;
}

OJson Failures(const world::FailureConfig& c) {
  if (!c.enabled) return {{"enabled", false}};
  return {{"enabled", true},
          {"status_500", c.rates.status_500},
          {"status_502", c.rates.status_502},
          {"status_503", c.rates.status_503},
          {"timeout", c.rates.timeout},
          {"timeout_latency", Dur(c.timeout_latency)},
          {"degraded_error_factor", c.degraded_error_factor}};
}

OJson Health(const world::HealthModelConfig& c) {
  if (!c.enabled) return {{"enabled", false}};
  return {{"enabled", true},
          {"mean_healthy", Dur(c.mean_healthy)},
          {"mean_degraded", Dur(c.mean_degraded)},
          {"mean_down", Dur(c.mean_down)},
          {"healthy_to_down", c.healthy_to_down},
          {"degraded_to_down", c.degraded_to_down},
          {"down_to_degraded", c.down_to_degraded},
          {"down_status", c.down_status}};
}

OJson Quota(const world::QuotaConfig& c) {
  if (!c.enabled) return {{"enabled", false}};
  OJson j = {{"enabled", true},
             {"limit", c.limit},
             {"period", std::string(world::QuotaPeriodName(c.period))}};
  if (c.period == world::QuotaPeriod::kRollingWindow) j["rolling_window"] = Dur(c.rolling_window);
  j["default_credits"] = c.default_credits;
  if (!c.credits_per_endpoint.empty()) {
    OJson per = OJson::object();
    for (const auto& [endpoint, credits] : c.credits_per_endpoint) per[endpoint] = credits;
    j["credits_per_endpoint"] = std::move(per);
  }
  j["charge_per_key"] = c.charge_per_key;
  j["headers"] = std::string(world::QuotaHeaderStyleName(c.header_style));
  if (c.exhausted_status != 0) j["exhausted_status"] = c.exhausted_status;
  return j;
}

}  // namespace

nlohmann::ordered_json UpstreamJson(const world::UpstreamModelConfig& c) {
  OJson j;
  j["latency"] = Latency(c.latency);
  j["failures"] = Failures(c.failures);
  j["health"] = Health(c.health);
  OJson outages = OJson::array();
  for (const world::OutageWindow& w : c.outages) {
    outages.push_back(
        {{"start", FormatInstant(w.start)}, {"end", FormatInstant(w.end)}, {"status", w.status}});
  }
  j["outages"] = std::move(outages);
  OJson windows = OJson::array();
  for (const world::HealthWindow& w : c.health_windows) {
    windows.push_back({{"start", FormatInstant(w.start)},
                       {"end", FormatInstant(w.end)},
                       {"state", std::string(world::UpstreamHealthName(w.state))}});
  }
  j["health_windows"] = std::move(windows);
  if (c.rate_limit.enabled) {
    j["rate_limit"] = {
        {"enabled", true},
        {"max_calls", c.rate_limit.max_calls},
        {"window", Dur(c.rate_limit.window)},
        {"kind", c.rate_limit.kind == world::RateLimitWindow::kFixed ? "fixed" : "sliding"}};
  } else {
    j["rate_limit"] = {{"enabled", false}};
  }
  j["quota"] = Quota(c.quota);
  if (c.batch.enabled) {
    j["batch"] = {{"enabled", true}, {"max_keys", c.batch.max_keys}};
  } else {
    j["batch"] = {{"enabled", false}};
  }
  if (c.data.enabled) {
    j["data"] = {{"enabled", true},
                 {"base_per_hour", c.data.base_per_hour},
                 {"pregame_per_hour", c.data.pregame_per_hour},
                 {"pregame_window", Dur(c.data.pregame_window)},
                 {"live_per_hour", c.data.live_per_hour},
                 {"game_duration", Dur(c.data.game_duration)}};
  } else {
    j["data"] = {{"enabled", false}};
  }
  return j;
}

std::string FormatJson(const nlohmann::ordered_json& value) {
  std::string out;
  Write(value, 0, 0, &out);
  return out;
}

std::string FormatUpstreams(const std::vector<world::UpstreamModelConfig>& upstreams) {
  OJson block = OJson::object();
  for (const world::UpstreamModelConfig& u : upstreams) block[u.name] = UpstreamJson(u);
  return FormatJson(block) + "\n";
}

}  // namespace orchsim::scenario
