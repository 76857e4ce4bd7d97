package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procCPU is a process's user plus system CPU seconds, from /proc/PID/stat.
func procCPU(pid int) float64 {
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[13], 64)
	s, _ := strconv.ParseFloat(f[14], 64)
	return (u + s) / clockTicks
}

// treeCPU is the CPU seconds of a process and its live children plus those
// of children it has reaped: PostgreSQL's postmaster and its backends.
func treeCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	f := statFields(pid)
	if len(f) < 17 {
		return 0
	}
	var total float64
	for _, i := range []int{13, 14, 15, 16} {
		v, _ := strconv.ParseFloat(f[i], 64)
		total += v
	}
	total /= clockTicks
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cf := statFields(child)
		if len(cf) > 3 && cf[3] == strconv.Itoa(pid) {
			total += procCPU(child)
		}
	}
	return total
}

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// statFields splits /proc/PID/stat after the command name, keeping field
// numbers as in proc(5) minus one.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{"pid", "comm"}, strings.Fields(s[i+1:])...)
}

// procRSS returns VmHWM (peak) and VmRSS in bytes.
func procRSS(pid int) (peak, now int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fs[0], 10, 64)
		switch k {
		case "VmHWM":
			peak = kb << 10
		case "VmRSS":
			now = kb << 10
		}
	}
	return peak, now
}

func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// loadAvg1 is the one-minute load average, as /proc/loadavg writes it.
func loadAvg1() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	return strings.Fields(string(b))[0]
}
