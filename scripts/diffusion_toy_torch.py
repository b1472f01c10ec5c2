# /usr/bin/python3 scripts/diffusion_toy_torch.py: the problem of scripts/diffusion-toy.ts (one 16-frame episode of
# tests/policy/fixtures, state only, To 2, Tp 10) with Diffusion Policy's ConditionalUnet1D structure (Conv1d-GroupNorm-
# Mish blocks, FiLM, 64/128, step embedding 32) in PyTorch: same batch, AdamW lr 1e-3 with warm-up + cosine, 600 steps.
# Prints the loss every 100 steps and the noise MSE at t = 0, 50, 99: a reference for how fast the objective learns.
# With the argument `sample` the network predicts the clean chunk x0 (prediction "sample") and the x0 MSE is printed.
import math, sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0); torch.set_num_threads(1)
SAMPLE = sys.argv[1:] == ['sample']
T=16; TP=10; DS=16
act=lambda t,j: 0.5*math.sin(0.3*t+0+0.2*j)
A=torch.tensor([[act(t,j) for j in range(DS)] for t in range(T)]); S=torch.tensor([[act(max(0,t-1),j) for j in range(DS)] for t in range(T)])
def norm(x,lo,hi): return (x-lo)/(hi-lo).clamp(min=1e-8)*2-1
alo,ahi=A.min(0).values,A.max(0).values; slo,shi=S.min(0).values,S.max(0).values
obs=[];x0=[]
for t in range(T):
    obs.append(torch.cat([norm(S[max(0,t-1)],slo,shi),norm(S[t],slo,shi)]))
    x0.append(torch.stack([norm(A[min(T-1,t+k)],alo,ahi) for k in range(TP)]))
OBS=torch.stack(obs); X0=torch.stack(x0)
def ab(t,N=100,s=0.008):
    f=lambda u: math.cos((u+s)/(1+s)*math.pi/2)**2
    betas=[min(1-f((i+1)/N)/f(i/N),0.999) for i in range(N)]
    a=1.0; out=[]
    for b in betas: a*=1-b; out.append(a)
    return torch.tensor(out)
AB=ab(0)
class Mish(nn.Module):
    def forward(self,x): return x*torch.tanh(F.softplus(x))
def blk(i,o,k): return nn.Sequential(nn.Conv1d(i,o,k,padding=k//2),nn.GroupNorm(8,o),Mish())
class Res(nn.Module):
    def __init__(s,i,o,c,k=5):
        super().__init__(); s.b0=blk(i,o,k); s.b1=blk(o,o,k); s.film=nn.Sequential(Mish(),nn.Linear(c,2*o)); s.o=o
        s.res=nn.Conv1d(i,o,1) if i!=o else nn.Identity()
    def forward(s,x,c):
        h=s.b0(x); e=s.film(c).unsqueeze(-1); h=e[:,:s.o]*h+e[:,s.o:]; h=s.b1(h); return h+s.res(x)
class Unet(nn.Module):
    def __init__(s,dx=16,dims=(64,128),sed=32,cond=32):
        super().__init__(); s.sed=sed
        s.step=nn.Sequential(nn.Linear(sed,4*sed),Mish(),nn.Linear(4*sed,sed)); c=sed+cond
        s.d0=nn.ModuleList([Res(dx,64,c),Res(64,64,c)]); s.down=nn.Conv1d(64,64,3,2,1)
        s.d1=nn.ModuleList([Res(64,128,c),Res(128,128,c)])
        s.mid=nn.ModuleList([Res(128,128,c),Res(128,128,c)])
        s.u1=nn.ModuleList([Res(256,64,c),Res(64,64,c)]); s.up=nn.ConvTranspose1d(64,64,4,2,1)
        s.final=nn.Sequential(blk(64,64,5),nn.Conv1d(64,dx,1))
    def emb(s,t):
        half=s.sed//2; f=torch.exp(-torch.arange(half)*math.log(10000)/(half-1)); a=t[:,None]*f[None]; return torch.cat([a.sin(),a.cos()],1)
    def forward(s,x,t,o):
        c=torch.cat([s.step(s.emb(t)),o],1); x=x.transpose(1,2)
        for m in s.d0: x=m(x,c)
        sk0=x; x=s.down(x)
        for m in s.d1: x=m(x,c)
        sk1=x
        for m in s.mid: x=m(x,c)
        x=torch.cat([x,sk1],1)
        for m in s.u1: x=m(x,c)
        x=s.up(x); return s.final(x).transpose(1,2)
net=Unet(); opt=torch.optim.AdamW(net.parameters(),lr=1e-3,weight_decay=1e-6)
steps=600
for i in range(steps):
    lr=1e-3*min(1,(i+1)/3)*0.5*(1+math.cos(math.pi*min(1,max(0,i-3)/(steps-3))))
    for g in opt.param_groups: g['lr']=lr
    idx=torch.randint(0,T,(32,)); t=torch.randint(0,100,(32,)); a=AB[t][:,None,None]
    eps=torch.randn(32,TP,DS); xt=a.sqrt()*X0[idx]+(1-a).sqrt()*eps
    loss=F.mse_loss(net(xt,t.float(),OBS[idx]),X0[idx] if SAMPLE else eps); opt.zero_grad(); loss.backward(); opt.step()
    if (i+1)%100==0: print(i+1, round(loss.item(),4), flush=True)
with torch.no_grad():
    for t in [0,50,99]:
        a=AB[t]; eps=torch.randn(16,TP,DS); xt=a.sqrt()*X0+(1-a).sqrt()*eps
        print('t',t,'x0 mse' if SAMPLE else 'eps mse',round(F.mse_loss(net(xt,torch.full((16,),float(t)),OBS),X0 if SAMPLE else eps).item(),4))
