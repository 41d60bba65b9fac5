// Command modemsim simulates IoT boards on pseudo-terminals and an Azure IoT
// Hub + DPS on loopback. Run with no arguments it serves one nRF91 board
// running the at_client sample; `modemsim help` lists the commands.
//
// Every command prints its help to stdout on -h/--help (or `modemsim help
// <command> [<sub>…]`) and exits 0. A usage error prints one line naming the
// command, then a hint to its help, and exits 2; any other failure prints one
// line and exits 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
)

// Exit statuses, as flag.ExitOnError and most Unix tools use them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := report(os.Stderr, run(ctx, os.Args[1:], os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}

// command is one top-level command of modemsim. Its run func handles its
// own -h/--help (through newFlagSet and parseFlags, or a group's dispatch),
// which is also how `modemsim help <name> …` shows it.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the command table: add a command here and it is dispatched,
// listed in `modemsim help` and reachable with `modemsim help <name>`.
func commands() []command {
	return []command{
		{"run", "serve a board on a pseudo-terminal, or a fleet of them (the default)", runBoard},
		{"boards", "list the boards a state directory holds, running or not", runBoards},
		{"cleanup", "remove links and device nodes that killed boards left behind", runCleanup},
		{"hub", "run the Azure IoT Hub + DPS emulator, or administer it", runHub},
		{"demo", "replay a forum failure case: list them, run one in the terminal or as a page", runDemo},
		{"load", "drive a fleet through %KEYGEN provisioning, DPS, hub and telemetry, with faults; print latencies", runLoad},
		{"version", "print the modemsim version", runVersion},
		{"help", "show the help of modemsim or of a command: help <command> [<subcommand>…]", nil}, // run by run itself
	}
}

// run executes the command line args. It returns nil after printing help,
// a *usageError for a mistake on the command line and a *commandError for
// any other failure; report turns them into one line and an exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			usage(stdout)
			return nil
		case "-version", "--version":
			return runVersion(ctx, args[1:], stdout, stderr)
		case "help":
			return runHelp(ctx, args[1:], stdout, stderr)
		}
	}
	name, rest := "run", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, rest = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return inCommand("modemsim "+name, c.run(ctx, rest, stdout, stderr))
		}
	}
	return &usageError{cmd: "modemsim", msg: fmt.Sprintf("unknown command %q", name), helpCmd: "modemsim help"}
}

// runHelp is `modemsim help [<command> [<subcommand>…]]`: the help of a
// command is what the command prints for --help.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			helpArgs := append(append([]string{}, args[1:]...), "--help")
			return inCommand("modemsim "+c.name, c.run(ctx, helpArgs, stdout, stderr))
		}
	}
	if args[0] == "help" {
		usage(stdout)
		return nil
	}
	return &usageError{cmd: "modemsim help", msg: fmt.Sprintf("unknown command %q", args[0]), helpCmd: "modemsim help"}
}

func usage(w io.Writer) {
	fmt.Fprint(w, "usage: modemsim [<command>] [flags]\n\nWith no command, modemsim runs one nRF91 board (the run command).\n\ncommands:\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprint(w, "\nRun 'modemsim help <command>' or 'modemsim <command> --help' for the flags of a command.\n")
}

// ---------------------------------------------------------------- version

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("modemsim version", "", "Print the modemsim version: the module version, or the VCS revision it was built from.", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(stdout, "modemsim", buildVersion(info, ok))
	return err
}

// buildVersion names the build: the module version when installed with
// `go install …@version`, else the VCS revision (with "-dirty" for
// uncommitted changes) when built from a checkout, else "devel".
func buildVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// ---------------------------------------------------------------- errors

// usageError is a mistake on the command line. report prints it in one line
// and points at the command's help instead of dumping it.
type usageError struct {
	cmd     string // the command, e.g. "modemsim hub device create"
	msg     string // what is wrong, e.g. "--device is required"
	helpCmd string // the help to point at; "" means "<cmd> --help"
}

func (e *usageError) Error() string { return e.cmd + ": " + e.msg }

func (e *usageError) hint() string {
	h := e.helpCmd
	if h == "" {
		h = e.cmd + " --help"
	}
	return fmt.Sprintf("Run '%s' for usage.", h)
}

// usagef reports a bad flag value or combination of fs's command.
func usagef(fs *flag.FlagSet, format string, a ...any) error {
	return &usageError{cmd: fs.Name(), msg: fmt.Sprintf(format, a...)}
}

// commandError is a failure of a command other than a usage error: it names
// the command once, so commands never prefix their own errors.
type commandError struct {
	cmd string
	err error
}

func (e *commandError) Error() string { return e.cmd + ": " + e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// inCommand names the command an error came from, unless the error already
// names one (a usage error, or a failure a subcommand already named).
func inCommand(cmd string, err error) error {
	var ue *usageError
	var ce *commandError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return nil // the help has been printed
	case errors.As(err, &ue), errors.As(err, &ce):
		return err
	}
	return &commandError{cmd: cmd, err: err}
}

// report prints err (if any) to w in one line, with a hint for a usage
// error, and returns the exit status.
func report(w io.Writer, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(w, ue.Error())
		fmt.Fprintln(w, ue.hint())
		return exitUsage
	}
	var ce *commandError
	if errors.As(err, &ce) {
		fmt.Fprintln(w, err)
	} else {
		fmt.Fprintln(w, "modemsim:", err)
	}
	return exitFailure
}

// ---------------------------------------------------------------- flags

// newFlagSet returns the flag set of the command at path (e.g. "modemsim
// run"). Its help, printed to stdout on -h/--help, is
//
//	usage: <path> [flags] <synopsis>
//
//	<about>
//
//	flags:
//	  <one entry per flag>
func newFlagSet(path, synopsis, about string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		w := fs.Output()
		line := "usage: " + path + " [flags]"
		if synopsis != "" {
			line += " " + synopsis
		}
		fmt.Fprintf(w, "%s\n\n%s\n", line, about)
		var hasFlags bool
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses a command's flags and refuses positional arguments, as
// every modemsim command takes flags only. On -h/--help it prints the help
// (fs.Usage, to stdout for a newFlagSet) and returns flag.ErrHelp, which
// run turns into success; a bad flag is a *usageError of one line.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseQuiet(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef(fs, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}

// parseQuiet is fs.Parse without the flag package's own printing: it
// would print the error and then the whole help to fs.Output.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	help, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = help
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return flag.ErrHelp
	}
	return usagef(fs, "%s", err.Error())
}
