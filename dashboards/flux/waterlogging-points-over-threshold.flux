// 积水超警戒点位数，按街道，每分钟 — points at or above 15 cm at the end of each minute, per district.
from(bucket: "huitian")
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._time < v.timeRangeStop) // InfluxDB 1.8 includes the stop itself
  |> filter(fn: (r) => r._measurement == "waterlogging" and r._field == "over_threshold")
  |> group(columns: ["district"])
  |> aggregateWindow(every: 1m, fn: sum, createEmpty: false, timeSrc: "_start")
  |> rename(columns: { _value: "points" })
