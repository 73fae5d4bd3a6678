"""Reference values for Tests/BackpropTests/RandomTests.swift: an independent transcription of the
xoshiro256** and SplitMix64 reference C code, and the polar method with math.log.

    python3 Tests/References/xoshiro_reference.py
"""
M=(1<<64)-1
def splitmix(seed):
    s=seed
    while True:
        s=(s+0x9E3779B97F4A7C15)&M
        z=s
        z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M
        z=((z^(z>>27))*0x94D049BB133111EB)&M
        yield z^(z>>31)
def rotl(x,k): return ((x<<k)|(x>>(64-k)))&M
class X:
    def __init__(self,seed):
        g=splitmix(seed); self.s=[next(g) for _ in range(4)]
    def next(self):
        s=self.s; r=(rotl((s[1]*5)&M,7)*9)&M; t=(s[1]<<17)&M
        s[2]^=s[0]; s[3]^=s[1]; s[1]^=s[2]; s[0]^=s[3]; s[2]^=t; s[3]=rotl(s[3],45); return r
    def double(self): return (self.next()>>11)*2.0**-53
x=X(42); print([x.next() for _ in range(3)])
x=X(0); print([x.next() for _ in range(2)])
x=X(42); print([repr(x.double()) for _ in range(3)])
import math
x=X(7)
def normal(x):
    while True:
        u=2*x.double()-1; v=2*x.double()-1; s=u*u+v*v
        if 0<s<1: return u*math.sqrt(-2*math.log(s)/s)
print([repr(normal(x)) for _ in range(4)])
