package board

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/modemsim/modemsim/ptyport"
)

// Fleet is many boards served by one process. They share one port watcher,
// so a fleet costs one inotify instance and one goroutine for all its ports.
type Fleet struct {
	Boards  []*Board // in the order of the configs
	watcher *ptyport.Watcher
	took    time.Duration // how long OpenFleet took
}

// openParallel bounds boards opened at once: opening a new board is mostly
// fsyncs (identity, key, Nordic's reserved credentials), which overlap well.
const openParallel = 16

// OpenFleet opens every board of cfgs, in parallel. Boards left without a
// watcher share the fleet's. On any failure every board opened is closed
// again and the errors name the boards.
func (c *Catalog) OpenFleet(ctx context.Context, cfgs []Config, log *slog.Logger) (_ *Fleet, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	w, err := ptyport.NewWatcher(ptyport.WithWatcherLogger(log))
	if err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	start := time.Now()
	f := &Fleet{Boards: make([]*Board, len(cfgs)), watcher: w}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	var mu sync.Mutex
	var errs []error
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(openParallel)
	for i, cfg := range cfgs {
		if cfg.Port.Watcher == nil {
			cfg.Port.Watcher = w
		}
		if cfg.Logger == nil {
			cfg.Logger = log
		}
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			b, err := c.Open(cfg)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return err
			}
			f.Boards[i] = b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
		return nil, err
	}
	f.took = time.Since(start)
	return f, nil
}

// StartTime is how long opening the fleet took.
func (f *Fleet) StartTime() time.Duration { return f.took }

// Run serves every board until ctx ends; the first board that fails ends
// the run of all.
func (f *Fleet) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, b := range f.Boards {
		g.Go(func() error {
			if err := b.Run(gctx); err != nil {
				return fmt.Errorf("board %s: %w", b.Name(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Close closes every board and the watcher.
func (f *Fleet) Close() error {
	var errs []error
	for _, b := range f.Boards {
		if b != nil {
			errs = append(errs, b.Close())
		}
	}
	if f.watcher != nil {
		errs = append(errs, f.watcher.Close())
	}
	return errors.Join(errs...)
}
