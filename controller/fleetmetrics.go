package controller

import (
	"time"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/resource"
	"github.com/prometheus/client_golang/prometheus"
)

// fleetCollector exports the fleet as this replica sees it, read at
// scrape time from the same in-memory state the Status call reads: no
// series outlives the object or report it describes.
type fleetCollector struct {
	admin *adminServer
	// apiTLS holds the API's certificate in use; nil without TLS.
	apiTLS *authn.Reloader
}

var (
	originUpDesc = prometheus.NewDesc("anyctl_controller_origin_up",
		"The fleet's quorum verdict on the origin: 1 healthy, 0 down.", []string{"origin"}, nil)
	announcingDesc = prometheus.NewDesc("anyctl_controller_service_announcing_pops",
		"PoPs whose live reports say they announce the service.", []string{"service"}, nil)
	minAnnouncingDesc = prometheus.NewDesc("anyctl_controller_service_min_announcing_pops",
		"The service's minAnnouncingPops.", []string{"service"}, nil)
	drainStepDesc = prometheus.NewDesc("anyctl_controller_pop_drain_step",
		"The PoP's drain step: 0 in service, 1 out of GSLB, 2 GRACEFUL_SHUTDOWN, 3 withdrawn.", []string{"pop"}, nil)
	reportingDesc = prometheus.NewDesc("anyctl_controller_pop_reporting",
		"1 while the PoP's agent has a current report; 0 when it is silent (no report within the status TTL).", []string{"pop"}, nil)
	reportAgeDesc = prometheus.NewDesc("anyctl_controller_pop_report_age_seconds",
		"Time since the PoP's agent last reported (absent while it has no current report).", []string{"pop"}, nil)
	originRTTDesc = prometheus.NewDesc("anyctl_controller_origin_rtt_seconds",
		"Round-trip time the PoP measures to the origin.", []string{"pop", "origin"}, nil)
	certNotAfterDesc = prometheus.NewDesc("anyctl_controller_tls_cert_not_after_timestamp_seconds",
		"When the API's (and console's) TLS certificate in use expires, in Unix seconds (also anyctl_tls_certificate_expiry_timestamp_seconds).", nil, nil)
)

func newFleetCollector(admin *adminServer, apiTLS *authn.Reloader) fleetCollector {
	return fleetCollector{admin: admin, apiTLS: apiTLS}
}

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{originUpDesc, announcingDesc, minAnnouncingDesc, drainStepDesc, reportingDesc, reportAgeDesc, originRTTDesc, certNotAfterDesc} {
		ch <- d
	}
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.admin
	s, _ := a.cache.Current()
	obs, _ := a.observed.Current()
	reports, _ := a.reports.Reports()
	drains := a.fleet.Drains()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, name := range resource.SortedNames(s.Origins) {
		up := 1.0 // an origin without a verdict counts as healthy
		if h, ok := obs.OriginHealth[name]; ok && !h.Healthy {
			up = 0
		}
		gauge(originUpDesc, up, name)
	}
	for _, b := range budgets(s, reports, a.fleet.Holds()) {
		gauge(announcingDesc, float64(len(b.GetAnnouncing())), b.GetService())
		gauge(minAnnouncingDesc, float64(b.GetMinAnnouncingPops()), b.GetService())
	}
	now := time.Now()
	for _, pop := range resource.SortedNames(s.Pops) {
		step := compile.DrainNone
		if r, ok := drains[pop]; ok {
			step = r.Step
		}
		gauge(drainStepDesc, float64(drainStepNumber(step)), pop)
		r, ok := reports[pop]
		if !ok {
			gauge(reportingDesc, 0, pop)
			continue
		}
		gauge(reportingDesc, 1, pop)
		if r.GetReportedAt() != nil {
			gauge(reportAgeDesc, now.Sub(r.GetReportedAt().AsTime()).Seconds(), pop)
		}
		for origin, rtt := range obs.RTT[pop] {
			gauge(originRTTDesc, rtt.Seconds(), pop, origin)
		}
	}
	if c.apiTLS != nil {
		if leaf := c.apiTLS.Leaf(); leaf != nil {
			gauge(certNotAfterDesc, float64(leaf.NotAfter.Unix()))
		}
	}
}

// drainStepNumber numbers the drain steps in the order a drain walks them.
func drainStepNumber(st compile.DrainStep) int {
	switch st {
	case compile.DrainGslb:
		return 1
	case compile.DrainGracefulShutdown:
		return 2
	case compile.DrainWithdrawn:
		return 3
	}
	return 0
}
