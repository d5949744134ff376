package authn

import (
	"slices"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// methodRoles allows each API method to the roles it is for; admin may
// call them all. A method missing here is refused to everyone, so a new
// RPC stays closed until it is given its roles.
var methodRoles = map[string][]Role{
	v1.AdminService_Apply_FullMethodName:   {RoleAdmin},
	v1.AdminService_Delete_FullMethodName:  {RoleAdmin},
	v1.AdminService_Drain_FullMethodName:   {RoleAdmin},
	v1.AdminService_Undrain_FullMethodName: {RoleAdmin},
	v1.AdminService_Get_FullMethodName:     {RoleAdmin, RoleViewer},
	v1.AdminService_List_FullMethodName:    {RoleAdmin, RoleViewer},
	v1.AdminService_Watch_FullMethodName:   {RoleAdmin, RoleViewer},
	v1.AdminService_Status_FullMethodName:  {RoleAdmin, RoleViewer},
	v1.AdminService_History_FullMethodName: {RoleAdmin, RoleViewer},
	// A backup holds what a viewer may read anyway; restoring one writes.
	v1.AdminService_Backup_FullMethodName:   {RoleAdmin, RoleViewer},
	v1.AdminService_Rollback_FullMethodName: {RoleAdmin},
	v1.AdminService_Restore_FullMethodName:  {RoleAdmin},

	v1.AgentService_Connect_FullMethodName: {RoleAdmin, RoleAgent},

	// Viewers read the compiled GSLB snapshot too: anyctl explain does.
	v1.GslbFeedService_Subscribe_FullMethodName: {RoleAdmin, RoleViewer, RoleDNS},
}

// openServices are open to every client whose certificate the CA signed,
// with or without a role: health checks and server reflection reveal
// nothing of the desired state.
var openServices = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// isOpen reports whether method is open to any verified client.
func isOpen(method string) bool {
	return slices.ContainsFunc(openServices, func(prefix string) bool { return strings.HasPrefix(method, prefix) })
}

// RolesFor returns the roles allowed to call method (a full gRPC method
// name), nil for a method no role may call.
func RolesFor(method string) []Role { return slices.Clone(methodRoles[method]) }

// Allowed reports whether role may call method.
func Allowed(method string, role Role) bool {
	return slices.Contains(methodRoles[method], role)
}
