package zshell

// makeArgv splits a command line as the Zephyr shell does (z_shell_make_argv
// and make_argv [S subsys/shell/shell_utils.c]): whitespace separates
// arguments; outside quotes a backslash takes the next byte literally; ' or "
// start a quoted part (quotes removed) in which \<quote>, \0ooo (octal, up to
// three digits) and \xhh escapes work. quote is the quote still open at the
// end, 0 if none.
func makeArgv(line string) (argv []string, quote byte) {
	cmd := []byte(line)
	i := 0
	for i < len(cmd) {
		if isSpace(cmd[i]) {
			i++
			continue
		}
		var arg []byte
		quote = 0
		for i < len(cmd) {
			c := cmd[i]
			if quote == 0 {
				switch c {
				case '\\':
					i++
					if i < len(cmd) {
						arg = append(arg, cmd[i])
						i++
					}
					continue
				case '\'', '"':
					quote = c
					i++
					continue
				}
			}
			if quote != 0 && c == quote {
				quote = 0
				i++
				continue
			}
			if quote != 0 && c == '\\' && i+1 < len(cmd) {
				t := cmd[i+1]
				if t == quote {
					arg = append(arg, t)
					i += 2
					continue
				}
				if t == '0' || t == 'x' {
					digits, base, maxd := 0, 8, 3
					if t == 'x' {
						base, maxd = 16, 2
					}
					v := 0
					for digits < maxd && i+2+digits < len(cmd) {
						d, ok := digitValue(cmd[i+2+digits], base)
						if !ok {
							break
						}
						v = v*base + d
						digits++
					}
					if digits > 0 {
						arg = append(arg, byte(v))
						i += 2 + digits
						continue
					}
				}
			}
			if quote == 0 && isSpace(c) {
				break
			}
			arg = append(arg, c)
			i++
		}
		argv = append(argv, string(arg))
	}
	return argv, quote
}

func digitValue(c byte, base int) (int, bool) {
	switch {
	case c >= '0' && c <= '7':
		return int(c - '0'), true
	case base == 16 && c >= '8' && c <= '9':
		return int(c - '0'), true
	case base == 16 && c >= 'a' && c <= 'f':
		return int(c-'a') + 10, true
	case base == 16 && c >= 'A' && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// isSpace is C isspace in the "C" locale.
func isSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// isPrint is C isprint in the "C" locale.
func isPrint(c byte) bool { return c >= 0x20 && c < 0x7f }

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
