// 覆盖率滚动 24 小时曲线 — coverage over the trailing 24 h at each hour of the range, as
// GET /v1/kpis/fire_response_coverage_5min/series?step=1h&window=24h. The data is read from
// 24 h before the range so the first hour already has a full window; empty hours count as 0;
// an hour whose 24 h decided nothing has no row (the API says null).
start = time(v: int(v: v.timeRangeStart) - int(v: 24h))
from(bucket: "huitian")
  |> range(start: start, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "fire_response" and (r._field == "covered" or r._field == "missed"))
  |> group(columns: ["_field"])
  |> aggregateWindow(every: 1h, fn: sum, createEmpty: true)
  |> fill(value: 0.0)
  |> movingAverage(n: 24)
  |> filter(fn: (r) => r._time > v.timeRangeStart)
  |> map(fn: (r) => ({ _time: r._time, covered: if r._field == "covered" then r._value else 0.0, missed: if r._field == "missed" then r._value else 0.0 }))
  |> group(columns: ["_time"])
  |> reduce(identity: { covered: 0.0, missed: 0.0 }, fn: (r, accumulator) => ({ covered: accumulator.covered + r.covered, missed: accumulator.missed + r.missed }))
  |> group()
  |> filter(fn: (r) => r.covered + r.missed > 0.0)
  |> map(fn: (r) => ({ _time: r._time, coverage: r.covered / (r.covered + r.missed) }))
  |> sort(columns: ["_time"])
