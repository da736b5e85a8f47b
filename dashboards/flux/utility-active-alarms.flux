// 地下管线未消除报警数，按管网，每分钟 — alarms raised and not cleared at the end of each minute, per network.
from(bucket: "huitian")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "utility_alarms" and r._field == "active")
  |> group(columns: ["network"])
  |> aggregateWindow(every: 1m, fn: sum, createEmpty: false, timeSrc: "_start")
  |> rename(columns: { _value: "alarms" })
