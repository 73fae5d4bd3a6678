# Seed 004 (../shared/seeds/004_135069662dc270f3.txt): Mazur's 2-2-2 sigmoid example in its
# author's scalar code, typos kept (`+ h2` for `+ b2` in net_o2; w3 and w4 use h1's derivative).
# One iteration, its values saved as matrices (weights out×in, one row per neuron) for
# `backprop check`: half the sum of squares, learning rate 0.5, biases not trained.
import sys
import numpy as np

i1 = 0.05; i2 = 0.10
out1 = 0.01; out2 = 0.99
w1 = 0.15; w2 = 0.20; w3 = 0.25; w4 = 0.30; b1 = 0.35
w5 = 0.4; w6 = 0.45; w7 = 0.5; w8 = 0.55; b2 = 0.6

net_h1 = w1 * i1 + w2 * i2 + b1
net_h2 = w3 * i1 + w4 * i2 + b1
h1 = 1 / (np.exp(-net_h1) + 1)
h2 = 1 / (np.exp(-net_h2) + 1)
net_o1 = w5 * h1 + w6 * h2 + b2
net_o2 = w7 * h1 + w8 * h2 + h2
o1 = 1 / (np.exp(-net_o1) + 1)
o2 = 1 / (np.exp(-net_o2) + 1)
Etotal_O1 = (out1 - o1) * -1
Eo1_neto1 = o1 * (1 - o1)
change_w5 = Etotal_O1 * Eo1_neto1 * h1
change_w6 = Etotal_O1 * Eo1_neto1 * h2
Etotal_O2 = (out2 - o2) * -1
Eo2_neto2 = o2 * (1 - o2)
change_w7 = Etotal_O2 * Eo2_neto2 * h1
change_w8 = Etotal_O2 * Eo2_neto2 * h2
E01_outh1 = Etotal_O1 * Eo1_neto1 * w5
E02_outh1 = Etotal_O2 * Eo2_neto2 * w7
Etotal_outh1 = E02_outh1 + E01_outh1
outh1_neth1 = h1 * (1 - h1)
Etotal_w1 = Etotal_outh1 * outh1_neth1 * i1
Etotal_w2 = Etotal_outh1 * outh1_neth1 * i2
dE_dh1 = Etotal_outh1
E01_outh2 = Etotal_O1 * Eo1_neto1 * w6
E02_outh2 = Etotal_O2 * Eo2_neto2 * w8
Etotal_outh1 = E02_outh2 + E01_outh2
outh2_neth2 = h2 * (1 - h2)
Etotal_w3 = Etotal_outh1 * outh1_neth1 * i1
Etotal_w4 = Etotal_outh1 * outh1_neth1 * i2

lr = 0.5
W1 = np.array([[w1, w2], [w3, w4]]); W2 = np.array([[w5, w6], [w7, w8]])
dW1 = np.array([[Etotal_w1, Etotal_w2], [Etotal_w3, Etotal_w4]])
dW2 = np.array([[change_w5, change_w6], [change_w7, change_w8]])
np.savez(sys.argv[1], X=np.array([[i1, i2]]), Y=np.array([[out1, out2]]), W1=W1,
         b1=np.array([b1, b1]), W2=W2, b2=np.array([b2, b2]),
         z1=np.array([[net_h1, net_h2]]), a1=np.array([[h1, h2]]),
         z2=np.array([[net_o1, net_o2]]), a2=np.array([[o1, o2]]),
         delta2=np.array([[Etotal_O1 * Eo1_neto1, Etotal_O2 * Eo2_neto2]]),
         dW2=dW2, dh1=np.array([[dE_dh1, Etotal_outh1]]), dW1=dW1,
         W1_new=W1 - lr * dW1, W2_new=W2 - lr * dW2)
