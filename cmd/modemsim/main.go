// Command modemsim simulates IoT boards on pseudo-terminals and an Azure IoT
// Hub + DPS on loopback. Run with no arguments it serves one nRF91 board
// running the at_client sample; `modemsim help` lists the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	default:
		fmt.Fprintln(os.Stderr, "modemsim:", err)
		os.Exit(1)
	}
}

// command is one subcommand of modemsim.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "serve an nRF91 board on a pseudo-terminal (the default)", runBoard},
		{"hub", "run the Azure IoT Hub + DPS emulator, or administer it", runHub},
		{"help", "show this help", nil},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		usage(stdout)
		return nil
	}
	if len(args) == 0 || len(args[0]) > 0 && args[0][0] == '-' {
		return runBoard(ctx, args, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] && c.run != nil {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stdout)
	if args[0] == "help" {
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: modemsim [command] [flags]\n\nWith no command, modemsim runs one nRF91 board (the run command).\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-6s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'modemsim <command> --help' for the flags of a command.")
}

// parseFlags parses a command's flags and refuses positional arguments, as
// every modemsim command takes flags only.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return nil
}
