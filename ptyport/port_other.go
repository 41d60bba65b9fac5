//go:build !linux

package ptyport

import "time"

// Port is only implemented on Linux; on other systems Open always fails.
type Port struct{}

// Watcher is only implemented on Linux; on other systems NewWatcher always fails.
type Watcher struct{}

// NewWatcher returns ErrUnsupported: ptyport relies on devpts, inotify and /proc.
func NewWatcher(opts ...WatcherOption) (*Watcher, error) { return nil, ErrUnsupported }

func (w *Watcher) Close() error { return ErrUnsupported }

// Open returns ErrUnsupported: ptyport relies on devpts, inotify and /proc.
func Open(opts ...Option) (*Port, error) { return nil, ErrUnsupported }

// RemoveStale returns ErrUnsupported.
func RemoveStale(path string) (bool, error) { return false, ErrUnsupported }

func (p *Port) Path() string                                       { return "" }
func (p *Port) Read(b []byte) (int, error)                         { return 0, ErrUnsupported }
func (p *Port) ReadSession(b []byte) (int, uint64, error)          { return 0, 0, ErrUnsupported }
func (p *Port) Write(b []byte) (int, error)                        { return 0, ErrUnsupported }
func (p *Port) WriteSession(session uint64, b []byte) (int, error) { return 0, ErrUnsupported }
func (p *Port) Session() uint64                                    { return 0 }
func (p *Port) ClientOpen() bool                                   { return false }
func (p *Port) SetReadDeadline(time.Time) error                    { return ErrUnsupported }
func (p *Port) SetWriteDeadline(time.Time) error                   { return ErrUnsupported }
func (p *Port) Close() error                                       { return ErrUnsupported }
