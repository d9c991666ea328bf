print("hiclaw-bench-host: not yet")
