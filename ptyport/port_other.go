//go:build !linux

package ptyport

import "time"

// Port is only implemented on Linux; on other systems Open always fails.
type Port struct{}

// Open returns ErrUnsupported: ptyport relies on devpts, inotify and /proc.
func Open(opts ...Option) (*Port, error) { return nil, ErrUnsupported }

func (p *Port) Path() string                     { return "" }
func (p *Port) Read(b []byte) (int, error)       { return 0, ErrUnsupported }
func (p *Port) Write(b []byte) (int, error)      { return 0, ErrUnsupported }
func (p *Port) Events() <-chan Event             { return nil }
func (p *Port) ClientOpen() bool                 { return false }
func (p *Port) SetReadDeadline(time.Time) error  { return ErrUnsupported }
func (p *Port) SetWriteDeadline(time.Time) error { return ErrUnsupported }
func (p *Port) Close() error                     { return ErrUnsupported }
