import subprocess, sys, time, signal
args = sys.argv[1:]
s = time.time()
p = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
time.sleep(2); p.send_signal(signal.SIGINT); t=time.time()
_, err = p.communicate(timeout=60)
print("rc", p.returncode, "after signal %.1fs" % (time.time()-t)); print(err[-600:])
