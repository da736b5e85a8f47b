// 消防救援响应时间 90 百分位 — p90 of the response time over the range, as the API computes it:
// nearest rank over the rt_le_<s> histogram, the upper bound of the bucket that holds the
// ⌈0.9·n⌉-th response (the open bucket reads as 7200 s). No row when nothing arrived.
import "math"
import "strings"

cumulative = from(bucket: "huitian")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "fire_response" and r._field =~ /^rt_le_/)
  |> group(columns: ["_field"])
  |> sum()
  |> group()
  |> map(fn: (r) => ({ k: 1, n: r._value, le: if r._field == "rt_le_inf" then 1000000000.0 else float(v: strings.trimPrefix(v: r._field, prefix: "rt_le_")) }))
  |> sort(columns: ["le"])
  |> cumulativeSum(columns: ["n"])
total = cumulative
  |> max(column: "n")
  |> map(fn: (r) => ({ k: 1, total: r.n }))
join(tables: { c: cumulative, t: total }, on: ["k"])
  |> filter(fn: (r) => r.n >= math.ceil(x: 0.9 * r.total - 0.000000001))
  |> first(column: "le")
  |> map(fn: (r) => ({ p90_seconds: if r.le > 7200.0 then 7200.0 else r.le, incidents: r.total }))
