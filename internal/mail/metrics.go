package mail

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	emailsSent = promauto.NewCounter(prometheus.CounterOpts{
		Name: "gatehouse_emails_sent_total",
		Help: "Emails handed to the mail relay (or the dev sender).",
	})
	emailsFailed = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "gatehouse_emails_failed_total",
		Help: "Failed delivery attempts, by reason: temporary (will retry), permanent (refused, dead), exhausted (no attempts left, dead).",
	}, []string{"reason"})
)
