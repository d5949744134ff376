package authn_test

import (
	"slices"
	"testing"

	"github.com/anyctl/anyctl/authn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc"
)

// apiMethods are the full names of every method of the controller's APIs.
func apiMethods() []string {
	var out []string
	for _, sd := range []grpc.ServiceDesc{v1.AdminService_ServiceDesc, v1.AgentService_ServiceDesc, v1.GslbFeedService_ServiceDesc} {
		for _, m := range sd.Methods {
			out = append(out, "/"+sd.ServiceName+"/"+m.MethodName)
		}
		for _, s := range sd.Streams {
			out = append(out, "/"+sd.ServiceName+"/"+s.StreamName)
		}
	}
	return out
}

// TestEveryRPCHasRoles fails when an RPC is added to the protos without
// roles: it would be refused to everyone, admin included.
func TestEveryRPCHasRoles(t *testing.T) {
	for _, m := range apiMethods() {
		roles := authn.RolesFor(m)
		if len(roles) == 0 {
			t.Errorf("%s has no roles in authn's method table", m)
		}
		if !slices.Contains(roles, authn.RoleAdmin) {
			t.Errorf("%s: admin may not call it; admin may call everything", m)
		}
	}
}

func TestRoleAllowed(t *testing.T) {
	allowed := map[authn.Role][]string{
		authn.RoleAdmin: apiMethods(),
		authn.RoleViewer: {v1.AdminService_Get_FullMethodName, v1.AdminService_List_FullMethodName,
			v1.AdminService_Watch_FullMethodName, v1.AdminService_Status_FullMethodName, v1.GslbFeedService_Subscribe_FullMethodName,
			v1.AdminService_History_FullMethodName, v1.AdminService_Backup_FullMethodName},
		authn.RoleAgent: {v1.AgentService_Connect_FullMethodName},
		authn.RoleDNS:   {v1.GslbFeedService_Subscribe_FullMethodName},
	}
	for _, role := range authn.Roles() {
		for _, m := range append(apiMethods(), "/anycast.v1.AdminService/NotYetWritten") {
			want := slices.Contains(allowed[role], m)
			if got := authn.Allowed(m, role); got != want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", m, role, got, want)
			}
		}
	}
}
