package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/anyctl/anyctl/atomicfile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
)

func init() {
	register(newBackupCommand)
	register(newRestoreCommand)
}

// backupMagic starts a backup file (see atomicfile.WriteFramed: the magic,
// a format version, the length and a CRC-32C of the encoded Backup).
const backupMagic = "ABAK"

// restoreChunk is the size of the pieces a restore sends.
const restoreChunk = 1 << 20

func newBackupCommand(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup -o FILE",
		Short: "Write the desired state, fleet state and history to a file",
		Long: `Backup reads, at one etcd revision, every desired-state object with its
versions, the fleet state (drain records, budget holds) and the history,
and writes them to FILE: a versioned file with a CRC-32C checksum, replaced
atomically. anyctl restore -f FILE writes it back, into a fresh cluster or
(with --force) over an existing one. PoP reports are not in it: agents
report again. The viewer role may take a backup.`,
		Example: `  anyctl backup -o anyctl-$(date +%F).backup`,
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return UsageErrorf("backup needs -o FILE")
			}
			var data []byte
			err := callAdmin(cmd.Context(), g, func(ctx context.Context, c *adminClient) error {
				stream, err := c.Backup(ctx, &v1.BackupRequest{})
				if err != nil {
					return err
				}
				for {
					chunk, err := stream.Recv()
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					data = append(data, chunk.GetData()...)
				}
			})
			if err != nil {
				return err
			}
			b := &v1.Backup{}
			if err := proto.Unmarshal(data, b); err != nil {
				return fmt.Errorf("the controller's backup does not decode: %w", err)
			}
			if err := atomicfile.WriteFramed(out, backupMagic, data); err != nil {
				return fmt.Errorf("-o %q: %w", out, err)
			}
			_, err = fmt.Fprintf(g.stdout, "backup of revision %d written to %s: %d objects, %d fleet keys, %d history records (%d bytes)\n",
				b.GetRevision(), out, len(b.GetObjects()), len(b.GetFleet()), len(b.GetHistory()), len(data))
			return err
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the backup file to write")
	return cmd
}

func newRestoreCommand(g *globals) *cobra.Command {
	var file string
	var force, dryRun bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "restore -f FILE [--force]",
		Short: "Write a backup into the cluster",
		Long: `Restore writes a file anyctl backup wrote: the desired state, the fleet
state and the history. The file's checksum and format version are checked
first, and the objects pass the same validation as an apply.

A cluster that holds desired state or history is refused, unless --force,
which replaces all of it. Object versions (resource versions and create
revisions) are kept: the restore moves the fresh cluster's etcd revision up
to each object's revisions before writing it, one small write per revision
skipped, so a backup of a cluster at revision R costs about R writes. When
the cluster is already past them (a forced restore onto a used cluster) the
objects get new versions, and the restore says how many. History records
keep their revisions and a record of the restore is added. A restore cut
short (--timeout, a lost connection) leaves part of the backup written:
run it again with --force. With --dry-run the file and the cluster are
checked and nothing is written. Needs the admin role.`,
		Example: `  anyctl restore -f anyctl-2026-12-05.backup
  anyctl restore -f anyctl-2026-12-05.backup --force`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return UsageErrorf("restore needs -f FILE, a file anyctl backup wrote")
			}
			if timeout <= 0 {
				return UsageErrorf("--timeout %s: want a positive duration", timeout)
			}
			data, err := atomicfile.ReadFramed(file, backupMagic)
			if err != nil {
				return fmt.Errorf("-f: %w; nothing was sent", err)
			}
			b := &v1.Backup{}
			if err := proto.Unmarshal(data, b); err != nil {
				return fmt.Errorf("-f %q: the backup does not decode: %w; nothing was sent", file, err)
			}
			call := callAdminWrite
			if dryRun {
				call = callAdmin
			}
			var resp *v1.RestoreResponse
			ctx := context.WithValue(cmd.Context(), callTimeoutKey{}, timeout)
			err = call(ctx, g, func(ctx context.Context, c *adminClient) error {
				stream, err := c.Restore(ctx)
				if err != nil {
					return err
				}
				first := true
				for rest := data; len(rest) > 0 || first; {
					n := min(len(rest), restoreChunk)
					req := &v1.RestoreRequest{Data: rest[:n]}
					if first {
						req.Force, req.DryRun, first = force, dryRun, false
					}
					if err := stream.Send(req); err != nil {
						break // the status comes from CloseAndRecv
					}
					rest = rest[n:]
				}
				resp, err = stream.CloseAndRecv()
				return err
			})
			if err != nil {
				return reportRejection(g.stderr, "restore", err)
			}
			if dryRun {
				_, err = fmt.Fprintf(g.stdout, "restore of %s would write %d objects, %d fleet keys and %d history records (dry run)\n",
					file, resp.GetObjects(), resp.GetFleetKeys(), resp.GetHistoryEntries())
				return err
			}
			fmt.Fprintf(g.stdout, "restored %s (backup of revision %d): %d objects, %d fleet keys, %d history records; now at revision %d\n",
				file, b.GetRevision(), resp.GetObjects(), resp.GetFleetKeys(), resp.GetHistoryEntries(), resp.GetRevision())
			if n := resp.GetRenumbered(); n > 0 {
				fmt.Fprintf(g.stderr, "warning: %d objects have new versions: the cluster's revision was already past theirs\n", n)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", "the backup file to restore")
	cmd.Flags().BoolVar(&force, "force", false, "restore into a cluster that holds desired state or history, replacing it")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and the cluster without writing")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long the restore may take")
	return cmd
}
