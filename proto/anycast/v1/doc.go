// Package anycastv1 is the wire format of the control plane, generated from
// the .proto files beside this file (make proto): the desired-state
// resources, the Admin API, the Agent API and the GSLB feed. Components
// convert these messages to their own domain types at the edge.
package anycastv1
