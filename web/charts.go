package web

import (
	"strings"
	"time"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"

	"github.com/walnut-board/walnut/store"
	"github.com/walnut-board/walnut/views"
)

// chartOptions are what every chart on the site page shares. The id names a
// JavaScript variable in go-echarts' script, so it is an identifier. AssetsHost
// points at Walnut's own assets: the page never loads a script from a CDN.
func (h *Handler) chartOptions(id, title string) []charts.GlobalOpts {
	host := strings.TrimSuffix(h.assets.Path("echarts.min.js"), "echarts.min.js")
	return []charts.GlobalOpts{
		charts.WithInitializationOpts(opts.Initialization{
			ChartID: id, AssetsHost: host, Width: "100%", Height: "300px", Renderer: "canvas", Theme: "white",
		}),
		charts.WithAnimation(false),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
		charts.WithYAxisOpts(opts.YAxis{Name: title, Type: "value"}),
		charts.WithGridOpts(opts.Grid{Left: "60", Right: "20", Top: "30", Bottom: "60"}),
	}
}

// axisLabel is a bucket's start as the x axis shows it: the time of day for
// ranges of a few days, the date beyond.
func axisLabel(t time.Time, step time.Duration) string {
	if step >= 24*time.Hour {
		return t.UTC().Format("2006-01-02")
	}
	return t.UTC().Format("01-02 15:04")
}

// msPoint is a line point in milliseconds, or a gap without timed probes.
func msPoint(b store.Bucket, d time.Duration) opts.LineData {
	if b.Timed == 0 {
		return opts.LineData{Value: nil}
	}
	return opts.LineData{Value: float64(d.Microseconds()) / 1000}
}

// dotLonePoints marks the points with no neighbour to draw a line to (a new
// site's first bucket, a bucket between gaps) with a dot: the lines have
// none, and a lone point would not be drawn at all.
func dotLonePoints(ps []opts.LineData) []opts.LineData {
	for i := range ps {
		if ps[i].Value == nil {
			continue
		}
		if (i == 0 || ps[i-1].Value == nil) && (i == len(ps)-1 || ps[i+1].Value == nil) {
			ps[i].Symbol, ps[i].SymbolSize = "circle", 6
		}
	}
	return ps
}

func barPoint(b store.Bucket, d time.Duration) opts.BarData {
	if b.Timed == 0 {
		return opts.BarData{Value: nil}
	}
	return opts.BarData{Value: float64(max(d, 0).Microseconds()) / 1000}
}

// latencyChart draws latency and TTFB, p50 and p95, per bucket.
func (h *Handler) latencyChart(buckets []store.Bucket, step time.Duration) views.ChartView {
	line := charts.NewLine()
	line.SetGlobalOptions(h.chartOptions("latency_chart", "ms")...)
	x := make([]string, len(buckets))
	var lp50, lp95, tp50, tp95 []opts.LineData
	for i, b := range buckets {
		x[i] = axisLabel(b.At, step)
		lp50 = append(lp50, msPoint(b, b.LatencyP50))
		lp95 = append(lp95, msPoint(b, b.LatencyP95))
		tp50 = append(tp50, msPoint(b, b.TTFBP50))
		tp95 = append(tp95, msPoint(b, b.TTFBP95))
	}
	line.SetXAxis(x).
		AddSeries("latency p50", dotLonePoints(lp50)).
		AddSeries("latency p95", dotLonePoints(lp95)).
		AddSeries("TTFB p50", dotLonePoints(tp50)).
		AddSeries("TTFB p95", dotLonePoints(tp95)).
		SetSeriesOptions(charts.WithLineChartOpts(opts.LineChart{ShowSymbol: opts.Bool(true), Symbol: "none", ConnectNulls: opts.Bool(false)}))
	s := line.RenderSnippet()
	return views.ChartView{ID: "latency", Element: s.Element, Script: s.Script}
}

// phaseChart stacks the mean phases of a probe per bucket: DNS, connect,
// TLS, the wait for the first byte after them, and the transfer.
func (h *Handler) phaseChart(buckets []store.Bucket, step time.Duration) views.ChartView {
	bar := charts.NewBar()
	bar.SetGlobalOptions(h.chartOptions("phases_chart", "ms (mean)")...)
	x := make([]string, len(buckets))
	var dns, connect, tls, wait, transfer []opts.BarData
	for i, b := range buckets {
		x[i] = axisLabel(b.At, step)
		dns = append(dns, barPoint(b, b.DNS))
		connect = append(connect, barPoint(b, b.Connect))
		tls = append(tls, barPoint(b, b.TLS))
		wait = append(wait, barPoint(b, b.TTFB-b.DNS-b.Connect-b.TLS))
		transfer = append(transfer, barPoint(b, b.Transfer()))
	}
	bar.SetXAxis(x).
		AddSeries("DNS", dns).
		AddSeries("connect", connect).
		AddSeries("TLS", tls).
		AddSeries("TTFB (server wait)", wait).
		AddSeries("transfer", transfer).
		SetSeriesOptions(charts.WithBarChartOpts(opts.BarChart{Stack: "phases"}))
	s := bar.RenderSnippet()
	return views.ChartView{ID: "phases", Element: s.Element, Script: s.Script}
}
