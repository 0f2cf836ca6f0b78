package web

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"
)

// dashboardDays is the window of the dashboard's daily charts.
const dashboardDays = 14

// consoleDashboard is GET /{pool}/console: sign-ups per day, pending
// approvals and their age, time to decision, sign-in failures per day
// (pool admins), as server-rendered SVG charts.
func (w *Web) consoleDashboard(rw http.ResponseWriter, r *http.Request, c *consoleReq) {
	d, err := w.svc.ConsoleDashboard(c.ctx, c.pool.ID, dashboardDays)
	if err != nil {
		w.consoleError(rw, r, c, err)
		return
	}
	labels := make([]string, len(d.Days))
	for i, t := range d.Days {
		labels[i] = t.Format("Jan 2")
	}
	total := 0
	for _, n := range d.SignUps {
		total += n
	}
	data := map[string]any{
		"SignUps":      barChart(text["console.chart.signups"], labels, d.SignUps, "#2458c6"),
		"SignUpsTotal": total,
		"Pending":      len(d.PendingAges),
		"PendingChart": hbarChart(text["console.chart.pending"], ageBuckets(d.PendingAges), "#b26a00"),
		"Decided":      len(d.DecisionTimes),
		"Approved":     d.Approved, "Denied": d.Denied,
		"DecisionChart": hbarChart(text["console.chart.decision"], ageBuckets(d.DecisionTimes), "#1f7a3f"),
		"Truncated":     d.Truncated, "Days": dashboardDays, "Notice": notice(r),
	}
	if len(d.PendingAges) > 0 {
		data["Oldest"] = fmtAgo(d.PendingAges[0])
	}
	if len(d.DecisionTimes) > 0 {
		data["Median"] = fmtAgo(percentile(d.DecisionTimes, 50))
		data["P90"] = fmtAgo(percentile(d.DecisionTimes, 90))
	}
	if d.SignInFailures != nil {
		f := 0
		for _, n := range d.SignInFailures {
			f += n
		}
		data["Failures"] = barChart(text["console.chart.failures"], labels, d.SignInFailures, "#b3261e")
		data["FailuresTotal"] = f
	}
	w.consoleRender(rw, r, c, http.StatusOK, "dashboard", data)
}

func percentile(ds []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1]
}

type ageBucket struct {
	Label string
	N     int
}

// ageBuckets counts durations in the buckets a person thinks in.
func ageBuckets(ds []time.Duration) []ageBucket {
	b := []ageBucket{{"< 1 hour", 0}, {"1–24 hours", 0}, {"1–3 days", 0}, {"3–7 days", 0}, {"> 7 days", 0}}
	for _, d := range ds {
		switch {
		case d < time.Hour:
			b[0].N++
		case d < 24*time.Hour:
			b[1].N++
		case d < 72*time.Hour:
			b[2].N++
		case d < 7*24*time.Hour:
			b[3].N++
		default:
			b[4].N++
		}
	}
	return b
}

// niceMax is the smallest of 1, 2, 5 × 10^k at or above n (at least 4).
func niceMax(n int) int {
	if n < 4 {
		return 4
	}
	for m := 1; ; m *= 10 {
		for _, f := range []int{1, 2, 5} {
			if f*m >= n {
				return f * m
			}
		}
	}
}

// barChart draws a vertical bar chart (one bar a day) as inline SVG with
// the values written on the bars; colours are attributes, not styles
// (the pages' CSP forbids inline styles).
func barChart(title string, labels []string, values []int, color string) template.HTML {
	const W, H, left, bottom, top = 640, 220, 36, 40, 14
	maxV := 0
	for _, v := range values {
		maxV = max(maxV, v)
	}
	m := niceMax(maxV)
	n := len(values)
	if n == 0 {
		return ""
	}
	slot := float64(W-left-8) / float64(n)
	bw := slot * 0.7
	ph := float64(H - bottom - top)
	var b strings.Builder
	var desc []string
	for i, v := range values {
		desc = append(desc, fmt.Sprintf("%s: %d", labels[i], v))
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title><desc>%s</desc>`,
		W, H, W, H, html.EscapeString(title), html.EscapeString(title), html.EscapeString(strings.Join(desc, ", ")))
	for _, g := range []int{0, m / 2, m} {
		y := float64(top) + ph - ph*float64(g)/float64(m)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d5d9e0" stroke-width="1"/>`, left, W-4, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="#5b6270">%d</text>`, left-6, y+4, g)
	}
	for i, v := range values {
		x := float64(left) + slot*float64(i) + (slot-bw)/2
		h := ph * float64(v) / float64(m)
		y := float64(top) + ph - h
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" rx="2"><title>%s: %d</title></rect>`,
			x, y, bw, h, color, html.EscapeString(labels[i]), v)
		if v > 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#1d2330">%d</text>`, x+bw/2, y-3, v)
		}
		if n <= 16 || i%2 == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#5b6270">%s</text>`, x+bw/2, H-bottom+16, html.EscapeString(labels[i]))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // #nosec: every text above is escaped
}

// hbarChart draws labelled horizontal bars (one a ageBucket).
func hbarChart(title string, bs []ageBucket, color string) template.HTML {
	const W, row, left = 640, 30, 110
	H := row*len(bs) + 10
	maxV := 0
	var desc []string
	for _, x := range bs {
		maxV = max(maxV, x.N)
		desc = append(desc, fmt.Sprintf("%s: %d", x.Label, x.N))
	}
	m := niceMax(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><title>%s</title><desc>%s</desc>`,
		W, H, W, H, html.EscapeString(title), html.EscapeString(title), html.EscapeString(strings.Join(desc, ", ")))
	for i, x := range bs {
		y := 5 + row*i
		wd := float64(W-left-50) * float64(x.N) / float64(m)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#1d2330">%s</text>`, left-8, y+row/2+4, html.EscapeString(x.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#eef0f4"/>`, left, y+4, float64(W-left-50), row-8)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`, left, y+4, wd, row-8, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#1d2330">%d</text>`, float64(left)+wd+6, y+row/2+4, x.N)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
