// 停车占用率，按街道，每分钟 — Σ occupied ÷ Σ capacity over the lots' minutes, per district (a
// gauge is a value per sampled minute: sum within the minute, never over time).
from(bucket: "huitian")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "parking" and (r._field == "occupied" or r._field == "capacity"))
  |> group(columns: ["_time", "district", "_field"])
  |> sum()
  |> pivot(rowKey: ["_time", "district"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({ _time: r._time, district: r.district, rate: r.occupied / r.capacity }))
  |> group(columns: ["district"])
  |> sort(columns: ["_time"])
