package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/modemsim/modemsim/demopage"
	"github.com/modemsim/modemsim/scenarios"
)

const demoAbout = `Replay a forum failure case with real simulated boards against an in-process hub
on 127.0.0.1 (a temporary state directory): the host's commands, what the device
prints, the hub's reason, then the fix and the success. With no case, list them.

  modemsim demo                 list the cases, one line each
  modemsim demo M1              run M1 in the terminal
  modemsim demo M1 --step       wait for Enter before each step
  modemsim demo M1 --html m1.html   also write a self-contained page`

func runDemo(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return demo(ctx, args, os.Stdin, stdout)
}

// demo is runDemo with the terminal's input given (--step reads Enter).
func demo(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlagSet("modemsim demo", "[<case>]", demoAbout, stdout)
	step := fs.Bool("step", false, "wait for Enter before each step")
	htmlPath := fs.String("html", "", "write the run as a self-contained HTML page to `file`")
	pkiDir := fs.String("pki", "", "keep the stand-in PKI in `dir` and reuse it (default: a new one in the run's temporary directory)")
	// Flags may come before or after the case.
	if err := parseQuiet(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	var id string
	if len(rest) > 0 {
		id, rest = rest[0], rest[1:]
		if err := parseQuiet(fs, rest); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef(fs, "unexpected arguments: %s", strings.Join(fs.Args(), " "))
		}
	}
	if id == "" {
		if *step || *htmlPath != "" {
			return usagef(fs, "--step and --html need a case")
		}
		return listCases(stdout)
	}
	c, err := scenarios.Lookup(id)
	if err != nil {
		return usagef(fs, "unknown case %q (valid: %s)", id, strings.Join(scenarios.IDs(), ", "))
	}
	if *htmlPath != "" {
		// Refuse a page that cannot be written before the demo runs, not after.
		if st, err := os.Stat(filepath.Dir(*htmlPath)); err != nil || !st.IsDir() {
			return fmt.Errorf("--html %s: no directory %s to write it in", *htmlPath, filepath.Dir(*htmlPath))
		}
	}
	opts := scenarios.Options{AfterStep: func(sr scenarios.StepResult) { printStep(stdout, sr) }}
	if *pkiDir != "" {
		opts.PKI = scenarios.NewPKIPool(*pkiDir)
	}
	if *step {
		in := bufio.NewReader(stdin)
		opts.BeforeStep = func(ctx context.Context, i int, s scenarios.Step) error {
			fmt.Fprintf(stdout, "\n[Enter] step %d: %s ", i+1, s.Say)
			if _, err := in.ReadString('\n'); err != nil && err != io.EOF {
				return fmt.Errorf("waiting for Enter: %w", err)
			}
			return ctx.Err()
		}
	}
	printCase(stdout, c)
	res, runErr := scenarios.Run(ctx, c, opts)
	if *htmlPath != "" {
		if err := writePage(*htmlPath, res); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\npage written to %s\n", *htmlPath)
	}
	if runErr != nil {
		return fmt.Errorf("the case did not end in its outcome: %w", runErr)
	}
	fmt.Fprintf(stdout, "\n%s ended as its feature asserts (%d steps).\n", c.ID, len(res.Steps))
	return nil
}

func listCases(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, c := range scenarios.Cases() {
		fmt.Fprintf(tw, "%s\t%s\n", c.ID, c.Title)
	}
	return tw.Flush()
}

func printCase(w io.Writer, c scenarios.Case) {
	fmt.Fprintf(w, "%s  %s\n", c.ID, c.Title)
	if c.Source != "" {
		fmt.Fprintf(w, "    thread: forum/%s\n", c.Source)
	}
	fmt.Fprintf(w, "    fails:  %s\n    fix:    %s\n", c.Failure, c.Fix)
}

// printStep shows a step as it ends, under a heading when its phase begins.
func printStep(w io.Writer, sr scenarios.StepResult) {
	fmt.Fprintf(w, "\n[%d] %s: %s\n", sr.Index+1, sr.Step.Phase, sr.Step.Say)
	for _, c := range sr.Commands {
		for _, l := range strings.Split(c, "\n") {
			fmt.Fprintf(w, "    host> %s\n", l)
		}
	}
	for _, l := range sr.Output {
		fmt.Fprintf(w, "    %s\n", l)
	}
	for _, r := range sr.Reasons {
		fmt.Fprintf(w, "    %s reason: %s %s: %s\n", r.Service, r.Check, r.DeviceID, r.Detail)
	}
	if sr.Err != "" {
		fmt.Fprintf(w, "    ✗ %s\n", sr.Err)
	}
}

func writePage(path string, res scenarios.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("html: %w", err)
	}
	if err := demopage.Write(f, res); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
