import subprocess, sys, time, signal, threading
args = sys.argv[1:]
p = subprocess.Popen(args, stderr=subprocess.STDOUT, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
t0=time.time()
def rd():
    for line in p.stdout: print("%.1f"%(time.time()-t0), line.rstrip())
th=threading.Thread(target=rd); th.start()
time.sleep(2); p.send_signal(signal.SIGINT); print("%.1f SIGINT"%(time.time()-t0))
p.wait(); th.join(); print("rc", p.returncode, "%.1f"%(time.time()-t0))
