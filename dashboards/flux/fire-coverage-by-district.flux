// 消防救援 5 分钟响应时间覆盖率，按街道 — 5-minute fire response coverage per district over the range.
// Partials are sparse (a district with no missed incident has no `missed` field), so each
// point adds to `covered` or `missed` and the other counts 0; a district with nothing
// decided has no row (the API says null).
from(bucket: "huitian")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "fire_response" and (r._field == "covered" or r._field == "missed"))
  |> map(fn: (r) => ({ district: r.district, covered: if r._field == "covered" then r._value else 0.0, missed: if r._field == "missed" then r._value else 0.0 }))
  |> group(columns: ["district"])
  |> reduce(identity: { covered: 0.0, missed: 0.0 }, fn: (r, accumulator) => ({ covered: accumulator.covered + r.covered, missed: accumulator.missed + r.missed }))
  |> filter(fn: (r) => r.covered + r.missed > 0.0)
  |> map(fn: (r) => ({ district: r.district, covered: r.covered, missed: r.missed, coverage: r.covered / (r.covered + r.missed) }))
  |> group()
  |> sort(columns: ["district"])
