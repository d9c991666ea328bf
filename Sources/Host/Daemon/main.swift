print("hiclaw-host: not yet")
