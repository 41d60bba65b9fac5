package nrf91modem

// LoseCoverage makes a registered modem lose its cell now, as
// Network.LossAfter does on its own schedule (a fault a load run injects at
// a moment of its choosing): the RRC connection drops, +CEREG reports 4,
// and with Network.RegainAfter the modem registers again after that long.
// It reports whether the modem was registered.
func (m *Modem) LoseCoverage() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.lteActive || !m.registeredLocked() {
		return false
	}
	m.coverageLostLocked()
	return true
}
