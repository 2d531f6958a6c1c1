// Replaced by the BPF backend (issue 3).
