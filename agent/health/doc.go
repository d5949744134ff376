// Package health runs the local health checks that gate a PoP's anycast
// announcements, and damps their results into an announce/withdraw decision.
//
// It has three layers, each usable alone:
//
//   - A Prober runs one check (http, https, tcp or dns) and says what failed.
//   - A Damper turns a series of results into up/down with rise/fall
//     thresholds and a hold-down that grows with repeated flaps. It is pure:
//     callers pass the time in, so it is tested without waiting.
//   - A Checker runs a Prober on a fixed ticker, feeds a Damper and reports
//     each transition through a callback, synchronously, the moment it
//     happens. For tcp and http(s) checks it also keeps one idle connection
//     open to the target (the connection watch): when the service dies the
//     kernel closes that connection and the Checker probes at once instead
//     of waiting for the next tick.
package health
