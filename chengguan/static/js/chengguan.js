/* Chengguan UI helpers shared by every page (Bootstrap, HTMX and ECharts are loaded locally). */
(function () {
  "use strict";

  var FONT = "\"PingFang SC\", \"Microsoft YaHei\", \"Noto Sans CJK SC\", \"Source Han Sans SC\", sans-serif";

  /* A horizontal bar chart (long Chinese unit names stay readable on phones). */
  function barChart(el, names, values, unit) {
    var chart = echarts.init(el, null, {renderer: "svg"});
    chart.setOption({
      textStyle: {fontFamily: FONT},
      grid: {left: 8, right: 40, top: 8, bottom: 8, containLabel: true},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"}, valueFormatter: function (v) { return v + " " + unit; }},
      xAxis: {type: "value", minInterval: 1, splitLine: {lineStyle: {color: "#e9edf2"}}},
      yAxis: {type: "category", data: names, inverse: true, axisTick: {show: false},
              axisLabel: {color: "#3d4a5a", width: 140, overflow: "truncate"}},
      series: [{type: "bar", data: values, barMaxWidth: 22, itemStyle: {color: "#0b5cad", borderRadius: [0, 3, 3, 0]},
                label: {show: true, position: "right", color: "#3d4a5a"}}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  window.Chengguan = {barChart: barChart};
})();
