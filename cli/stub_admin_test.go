package cli

import (
	"bytes"
	"context"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// stubAdmin is a small in-test Admin API for the client commands' flag and
// output tests: it answers from a map and records what it was asked. It is
// not the controller and tests nothing of it; running the commands against
// the real controller over real etcd is the end-to-end test's job.
type stubAdmin struct {
	v1.UnimplementedAdminServiceServer

	mu       sync.Mutex // guards the fields below
	objects  map[resource.Ref]*v1.Object
	requests []proto.Message
	// applyErr, when set, is what Apply returns.
	applyErr error
}

// startStubAdmin serves a stubAdmin holding objs on a loopback port and
// returns its address.
func startStubAdmin(t *testing.T, objs ...*v1.Object) (*stubAdmin, string) {
	t.Helper()
	stub := &stubAdmin{objects: map[resource.Ref]*v1.Object{}}
	for _, o := range objs {
		stub.objects[resource.RefOf(o)] = o
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	v1.RegisterAdminServiceServer(srv, stub)
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return stub, lis.Addr().String()
}

func (s *stubAdmin) record(req proto.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// received returns the requests the stub got, in order.
func (s *stubAdmin) received() []proto.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]proto.Message(nil), s.requests...)
}

func notFound(ref resource.Ref) error { return status.Errorf(codes.NotFound, "%s not found", ref) }

func (s *stubAdmin) Apply(_ context.Context, req *v1.ApplyRequest) (*v1.ApplyResponse, error) {
	s.record(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.applyErr != nil {
		return nil, s.applyErr
	}
	resp := &v1.ApplyResponse{}
	for _, o := range req.GetObjects() {
		ref := resource.RefOf(o)
		r := &v1.ApplyResult{Kind: ref.Kind, Name: ref.Name, Action: v1.ApplyAction_APPLY_ACTION_CREATED, Diff: "+ " + ref.Name}
		if old, ok := s.objects[ref]; ok {
			r.Action, r.Diff = v1.ApplyAction_APPLY_ACTION_UPDATED, "- old\n+ new"
			if proto.Equal(resource.Inner(old).ProtoReflect().Get(specField(old)).Message().Interface(),
				resource.Inner(o).ProtoReflect().Get(specField(o)).Message().Interface()) {
				r.Action, r.Diff = v1.ApplyAction_APPLY_ACTION_UNCHANGED, ""
			}
		}
		resp.Results = append(resp.Results, r)
		if !req.GetDryRun() {
			s.objects[ref] = o
		}
	}
	return resp, nil
}

func specField(o *v1.Object) protoreflect.FieldDescriptor {
	return resource.Inner(o).ProtoReflect().Descriptor().Fields().ByName("spec")
}

func (s *stubAdmin) Get(_ context.Context, req *v1.GetRequest) (*v1.GetResponse, error) {
	s.record(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := resource.Ref{Kind: req.GetKind(), Name: req.GetName()}
	o, ok := s.objects[ref]
	if !ok {
		return nil, notFound(ref)
	}
	return &v1.GetResponse{Object: o}, nil
}

func (s *stubAdmin) List(_ context.Context, req *v1.ListRequest) (*v1.ListResponse, error) {
	s.record(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &v1.ListResponse{Revision: 99}
	for ref, o := range s.objects {
		if ref.Kind == req.GetKind() {
			resp.Objects = append(resp.Objects, o)
		}
	}
	sort.Slice(resp.Objects, func(i, j int) bool {
		return resource.Meta(resp.Objects[i]).GetName() < resource.Meta(resp.Objects[j]).GetName()
	})
	return resp, nil
}

func (s *stubAdmin) Delete(_ context.Context, req *v1.DeleteRequest) (*v1.DeleteResponse, error) {
	s.record(req)
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := resource.Ref{Kind: req.GetKind(), Name: req.GetName()}
	o, ok := s.objects[ref]
	if !ok {
		return nil, notFound(ref)
	}
	if v := req.GetResourceVersion(); v != 0 && v != resource.Meta(o).GetResourceVersion() {
		return nil, status.Errorf(codes.Aborted, "%s: resource version %d is stale", ref, v)
	}
	delete(s.objects, ref)
	return &v1.DeleteResponse{Revision: 100}, nil
}

// runAnyctl runs the anyctl command line in-process.
func runAnyctl(args []string, stdin string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCommandsAgainstStubAdminServer runs the client commands over real
// gRPC against stubAdmin and checks their requests, output and exit codes.
func TestCommandsAgainstStubAdminServer(t *testing.T) {
	zone := resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: "gslb"}, Spec: &v1.GslbZoneSpec{Zone: "gslb.example.com.", DefaultTtl: 30}})
	record := resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: "origin-nearest"}, Spec: &v1.GslbRecordSpec{
		Zone: "gslb", Name: "origin", Type: v1.RecordType_RECORD_TYPE_A, Policy: v1.Policy_POLICY_NEAREST, Origins: []string{"us-east"},
	}})
	seed := []*v1.Object{outputTokyo, zone, record}
	newOrigin := "apiVersion: anycast.anyctl.io/v1\nkind: Origin\nmetadata: {name: us-east}\nspec: {weight: 50}\n"
	tokyoYAML := `apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata:
  name: tokyo
  labels:
    app: cdn
    tier: edge
  resourceVersion: 12
  createRevision: 3
spec:
  location:
    latitude: 35.6762
    longitude: 139.6503
    country: JP
    city: Tokyo
  localAsn: 64512
  routerId: 203.0.113.133
  peers:
    - address: 203.0.113.129
      peerAsn: 64496
      holdTime: 1m30s
      families:
        - ipv4-unicast
    - address: 2001:db8:100::1
      peerAsn: 64497
  unicastAddresses:
    - 203.0.113.132
    - 2001:db8:100::10
`
	tests := []struct {
		name       string
		args       []string
		stdin      string
		applyErr   error
		wantCode   int
		wantStdout string // exact
		wantStderr string // exact
		wantReqs   []proto.Message
	}{
		{
			name:       "get a kind as a table",
			args:       []string{"get", "pops"},
			wantStdout: "NAME    LOCATION   ASN     ROUTER-ID       PEERS   VERSION\ntokyo   Tokyo,JP   64512   203.0.113.133   2       12\n",
			wantReqs:   []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_POP}},
		},
		{
			name: "get records looks up their zones",
			args: []string{"get", "records"},
			wantStdout: "NAME             FQDN                       TYPE   POLICY    CANDIDATES   TTL\n" +
				"origin-nearest   origin.gslb.example.com.   A      nearest   us-east      30\n",
			wantReqs: []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_GSLB_RECORD}, &v1.ListRequest{Kind: v1.Kind_KIND_GSLB_ZONE}},
		},
		{
			name:       "get an empty kind",
			args:       []string{"get", "origins"},
			wantStderr: "no origins found\n",
			wantReqs:   []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_ORIGIN}},
		},
		{
			name:       "get one object as YAML",
			args:       []string{"get", "pop", "tokyo", "-o", "yaml"},
			wantStdout: tokyoYAML,
			wantReqs:   []proto.Message{&v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo"}},
		},
		{
			name:       "get one object as JSON",
			args:       []string{"get", "zone", "gslb", "--output=json"},
			wantStdout: "{\n  \"apiVersion\": \"anycast.anyctl.io/v1\",\n  \"kind\": \"GslbZone\",\n  \"metadata\": {\n    \"name\": \"gslb\"\n  },\n  \"spec\": {\n    \"zone\": \"gslb.example.com.\",\n    \"defaultTtl\": 30\n  }\n}\n",
			wantReqs:   []proto.Message{&v1.GetRequest{Kind: v1.Kind_KIND_GSLB_ZONE, Name: "gslb"}},
		},
		{
			name:       "get a kind as JSON is a list",
			args:       []string{"get", "zones", "-o", "json"},
			wantStdout: "[\n  {\n    \"apiVersion\": \"anycast.anyctl.io/v1\",\n    \"kind\": \"GslbZone\",\n    \"metadata\": {\n      \"name\": \"gslb\"\n    },\n    \"spec\": {\n      \"zone\": \"gslb.example.com.\",\n      \"defaultTtl\": 30\n    }\n  }\n]\n",
			wantReqs:   []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_GSLB_ZONE}},
		},
		{
			name:       "get names",
			args:       []string{"get", "records", "-o", "name"},
			wantStdout: "gslbrecord/origin-nearest\n",
			wantReqs:   []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_GSLB_RECORD}},
		},
		{
			name:       "get a missing object",
			args:       []string{"get", "pop", "osaka"},
			wantCode:   ExitFailure,
			wantStderr: "anyctl: Pop \"osaka\" not found\n",
			wantReqs:   []proto.Message{&v1.GetRequest{Kind: v1.Kind_KIND_POP, Name: "osaka"}},
		},
		{
			name:       "describe",
			args:       []string{"describe", "record", "origin-nearest"},
			wantStdout: "Kind:              GslbRecord\nName:              origin-nearest\nLabels:            <none>\nDescription:       <unset>\nResource Version:  <unset>\nCreate Revision:   <unset>\nSpec:\n  Zone:           gslb\n  Name:           origin\n  Type:           a\n  Origins:        us-east\n  Pops:           <unset>\n  Policy:         nearest\n  Answers:        <unset>\n  TTL:            <unset>\n  Residency:      <none>\n  When All Down:  <unset>\n  HTTPS:          <unset>\n",
			wantReqs:   []proto.Message{&v1.GetRequest{Kind: v1.Kind_KIND_GSLB_RECORD, Name: "origin-nearest"}},
		},
		{
			name:       "apply from stdin",
			args:       []string{"apply", "-f", "-"},
			stdin:      newOrigin + "---\n" + tokyoYAML,
			wantStdout: "origin/us-east created\npop/tokyo unchanged\n",
			wantReqs:   []proto.Message{&v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: "us-east"}, Spec: &v1.OriginSpec{Weight: 50}}), outputTokyo}}},
		},
		{
			name:       "apply a dry run shows the changes",
			args:       []string{"apply", "--dry-run", "-f", "-"},
			stdin:      newOrigin + "---\n" + strings.Replace(tokyoYAML, "64512", "64513", 1),
			wantStdout: "origin/us-east created (dry run)\n    + us-east\npop/tokyo configured (dry run)\n    - old\n    + new\n",
		},
		{
			name:       "apply rejected by validation",
			args:       []string{"apply", "-f", "-"},
			stdin:      newOrigin,
			applyErr:   status.Error(codes.InvalidArgument, "Origin \"us-east\": spec.addresses: required\nOrigin \"us-east\": spec.location: required"),
			wantCode:   ExitFailure,
			wantStderr: "Origin \"us-east\": spec.addresses: required\nOrigin \"us-east\": spec.location: required\nanyctl: the controller rejected the apply (2 problems); nothing was written\n",
		},
		{
			name:       "apply with broken manifests sends nothing",
			args:       []string{"apply", "-f", "-"},
			stdin:      "apiVersion: anycast.anyctl.io/v1\nkind: Origin\nmetadata: {name: o}\nspec: {weight: heavy, dial: 5}\n",
			wantCode:   ExitFailure,
			wantStderr: "<stdin>:4: document 1 (Origin \"o\"): spec.weight: want a number, got \"heavy\"\n<stdin>:4: document 1 (Origin \"o\"): spec: unknown field \"dial\"\nanyctl: 2 problems in the manifests; nothing was sent\n",
		},
		{
			name:       "delete",
			args:       []string{"delete", "pop", "tokyo", "--resource-version", "12"},
			wantStdout: "pop/tokyo deleted\n",
			wantReqs:   []proto.Message{&v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo", ResourceVersion: 12}},
		},
		{
			name:       "delete a stale version",
			args:       []string{"delete", "pop", "tokyo", "--resource-version", "11"},
			wantCode:   ExitFailure,
			wantStderr: "anyctl: Pop \"tokyo\": resource version 11 is stale\n",
			wantReqs:   []proto.Message{&v1.DeleteRequest{Kind: v1.Kind_KIND_POP, Name: "tokyo", ResourceVersion: 11}},
		},
		{
			name:       "complete kinds",
			args:       []string{"__complete", "get", ""},
			wantStdout: "pops\nanycastservices\norigins\ngslbzones\ngslbrecords\n:4\n",
			wantStderr: "Completion ended with directive: ShellCompDirectiveNoFileComp\n",
		},
		{
			name:       "complete names from the controller",
			args:       []string{"__complete", "describe", "pops", ""},
			wantStdout: "tokyo\n:4\n",
			wantStderr: "Completion ended with directive: ShellCompDirectiveNoFileComp\n",
			wantReqs:   []proto.Message{&v1.ListRequest{Kind: v1.Kind_KIND_POP}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub, addr := startStubAdmin(t, seed...)
			stub.applyErr = tt.applyErr
			code, stdout, stderr := runAnyctl(append([]string{"--server", addr}, tt.args...), tt.stdin)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if stdout != tt.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.wantStdout)
			}
			if stderr != tt.wantStderr {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr, tt.wantStderr)
			}
			if tt.wantReqs == nil {
				return
			}
			got := stub.received()
			if len(got) != len(tt.wantReqs) {
				t.Fatalf("the stub got %d requests %v, want %d %v", len(got), got, len(tt.wantReqs), tt.wantReqs)
			}
			for i := range got {
				if !proto.Equal(got[i], tt.wantReqs[i]) {
					t.Errorf("request %d = %v, want %v", i+1, got[i], tt.wantReqs[i])
				}
			}
		})
	}
}

// TestUsageErrorsSendNothing checks that bad command lines exit with
// ExitUsage before any request.
func TestUsageErrorsSendNothing(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"get"}, "anyctl: anyctl get takes 1 to 2 argument(s), got 0\n"},
		{[]string{"get", "pops", "a", "b"}, "anyctl: anyctl get takes 1 to 2 argument(s), got 3\n"},
		{[]string{"get", "pods"}, "anyctl: unknown kind \"pods\": want one of anycastservices, gslbrecords, gslbzones, origins, pops\n"},
		{[]string{"get", "pops", "-o", "xml"}, "anyctl: -o \"xml\": want one of table, yaml, json, name\n"},
		{[]string{"get", "pops", "--bogus"}, "anyctl: unknown flag: --bogus\n"},
		{[]string{"describe", "pop"}, "anyctl: anyctl describe takes 2 argument(s), got 1\n"},
		{[]string{"describe", "router", "r1"}, "anyctl: unknown kind \"router\": want one of anycastservices, gslbrecords, gslbzones, origins, pops\n"},
		{[]string{"delete", "pop"}, "anyctl: anyctl delete takes 2 argument(s), got 1\n"},
		{[]string{"delete", "pop", "tokyo", "--resource-version", "abc"}, "anyctl: invalid argument \"abc\" for \"--resource-version\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\n"},
		{[]string{"delete", "pop", "tokyo", "--resource-version", "-3"}, "anyctl: --resource-version -3: want a version from get, or 0 for any\n"},
		{[]string{"apply"}, "anyctl: apply needs at least one -f FILE, DIR or - for stdin\n"},
		{[]string{"apply", "pops.yaml"}, "anyctl: anyctl apply takes 0 argument(s), got 1\n"},
		{[]string{"apply", "-f"}, "anyctl: flag needs an argument: 'f' in -f\n"},
		{[]string{"version", "now"}, "anyctl: anyctl version takes 0 argument(s), got 1\n"},
		{[]string{"completion"}, "anyctl: anyctl completion takes 1 argument(s), got 0\n"},
		{[]string{"completion", "tcsh"}, "anyctl: unknown shell \"tcsh\": want bash, zsh, fish or powershell\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stub, addr := startStubAdmin(t)
			code, stdout, stderr := runAnyctl(append([]string{"--server", addr}, tt.args...), "")
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			if stderr != tt.wantStderr {
				t.Errorf("stderr %q, want %q", stderr, tt.wantStderr)
			}
			if got := stub.received(); len(got) != 0 {
				t.Errorf("the stub got requests %v, want none", got)
			}
		})
	}
}

func TestServerFromEnvironment(t *testing.T) {
	_, addr := startStubAdmin(t, outputTokyo)
	t.Setenv(envServer, addr)
	t.Setenv(envConfig, "")
	code, stdout, stderr := runAnyctl([]string{"get", "pops", "-o", "name"}, "")
	if code != ExitOK || stdout != "pop/tokyo\n" {
		t.Errorf("get with $%s: exit %d, stdout %q, stderr %q", envServer, code, stdout, stderr)
	}
}

func TestUnreachableController(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // nothing listens there now
	code, _, stderr := runAnyctl([]string{"--server", addr, "get", "pops"}, "")
	if code != ExitFailure {
		t.Errorf("exit code %d, want %d", code, ExitFailure)
	}
	if want := "anyctl: cannot reach the controller at " + addr + " (from --server): "; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", stderr, want)
	}
}

func TestVersionAndCompletionCommands(t *testing.T) {
	tests := []struct {
		args []string
		want string // stdout holds this
	}{
		{[]string{"version"}, "anyctl dev (commit "},
		{[]string{"completion", "bash"}, "# bash completion V2 for anyctl"},
		{[]string{"completion", "zsh"}, "#compdef anyctl"},
		{[]string{"completion", "fish"}, "# fish completion for anyctl"},
		{[]string{"completion", "powershell"}, "# powershell completion for anyctl"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runAnyctl(tt.args, "")
			if code != ExitOK {
				t.Fatalf("exit code %d, stderr %q", code, stderr)
			}
			if !strings.Contains(stdout, tt.want) {
				t.Errorf("stdout lacks %q:\n%.300s", tt.want, stdout)
			}
		})
	}
}
