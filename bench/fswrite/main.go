// Command fswrite measures what creating many small files costs on this
// machine's file system by itself, with nothing of perimeter involved: the
// floor under `perimeter render --kustomize` into an empty directory, which
// writes one file per object.
//
//	go run ./bench/fswrite [-files 12000] [-size 700] [-writers 16]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

func main() {
	files := flag.Int("files", 12000, "files to create")
	size := flag.Int("size", 700, "bytes per file")
	writers := flag.Int("writers", 16, "files written at once")
	flag.Parse()
	dir, err := os.MkdirTemp("", "perimeter-fswrite-")
	check(err)
	defer os.RemoveAll(dir)
	data := make([]byte, *size)
	next := make(chan int)
	var wg sync.WaitGroup
	start, sys := time.Now(), systemTime()
	for range *writers {
		wg.Go(func() {
			for i := range next {
				check(os.WriteFile(filepath.Join(dir, fmt.Sprintf("object-%05d.yaml", i)), data, 0o644))
			}
		})
	}
	for i := range *files {
		next <- i
	}
	close(next)
	wg.Wait()
	fmt.Printf("%d files of %d bytes, %d writers: %v wall, %v system time\n", *files, *size, *writers,
		time.Since(start).Round(time.Millisecond), (systemTime() - sys).Round(time.Millisecond))
}

func systemTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Stime.Nano())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
