"""The state of one running fake: settings, environments and shared services."""

from fakesprinklr.catalog import Catalog
from fakesprinklr.config import Config
from fakesprinklr.counters import Counters
from fakesprinklr.faults import Faults
from fakesprinklr.limits import Limiter
from fakesprinklr.oauth import TokenBook
from fakesprinklr.search import Cursors
from fakesprinklr.store import Store


class EnvState:
    """Everything that belongs to one environment."""

    def __init__(self, env, seed, profiles, config, counters):
        self.env = env
        self.catalog = Catalog(seed, env.name)
        self.store = Store(seed, env.name, profiles, self.catalog)
        self.tokens = TokenBook(env, config, counters)


class App:
    """Environments plus the services shared by all of them."""

    def __init__(self, envs, profiles=1000, seed=1, **settings):
        self.config = Config(**settings)
        self.counters = Counters()
        self.faults = Faults()
        self.limiter = Limiter(self.config)
        self.cursors = Cursors()
        self.envs = {}
        for env in envs:
            if env.name in self.envs or self.env_of_key(env.key) is not None:
                raise ValueError("duplicate environment name or key: %s" % env.name)
            self.envs[env.name] = EnvState(env, seed, profiles, self.config, self.counters)

    def env_of_key(self, key):
        """The EnvState whose application has this key, or None."""
        for state in self.envs.values():
            if state.env.key == key:
                return state
        return None
