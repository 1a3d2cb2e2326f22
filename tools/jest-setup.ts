import { Testing } from 'cdktf';

// Adds toHaveResourceWithProperties and friends to expect().
Testing.setupJest();
